// engine::harvest_passwords, the one harvester behind .eml/mbox and .msg: English and Japanese cues, filler and
// glue, next-line passwords, words that merely contain a cue, and the bounds.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/passwords.hpp"

namespace mamori::engine {
namespace {

using V = std::vector<std::string>;

TEST(Passwords, EnglishCues) {
  EXPECT_EQ(harvest_passwords("Password: abc123"), V{"abc123"});
  EXPECT_EQ(harvest_passwords("The password is: Sunflower42."), (V{"Sunflower42", "Sunflower42."}));
  EXPECT_EQ(harvest_passwords("the password is x9Y-77. Thanks"), (V{"x9Y-77", "x9Y-77."}));
  EXPECT_EQ(harvest_passwords("Archive password - 7731\nthanks"), V{"7731"});
  EXPECT_EQ(harvest_passwords("zip password: 2024 Invoice"), (V{"2024", "Invoice"}));
  EXPECT_EQ(harvest_passwords("Passwords for the files: \"q-9\""), V{"q-9"});
  EXPECT_EQ(harvest_passwords("pass: abc123"), V{"abc123"});
  EXPECT_EQ(harvest_passwords("PWD=qwe"), V{"qwe"});
  EXPECT_EQ(harvest_passwords("PW=hunter2"), V{"hunter2"});
  EXPECT_EQ(harvest_passwords("Passwort lautet: Qw12"), V{"Qw12"});
}

TEST(Passwords, PasswordOnTheNextLine) {
  EXPECT_EQ(harvest_passwords("Password for the zip file:\n   Summer2024\n"), V{"Summer2024"});
  EXPECT_EQ(harvest_passwords("Password:\r\nK7!x\r\n"), V{"K7!x"});
}

TEST(Passwords, JapaneseCues) {
  // パスワードは abc123 です
  EXPECT_EQ(harvest_passwords("\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89\xe3\x81\xaf abc123 "
                              "\xe3\x81\xa7\xe3\x81\x99"),
            V{"abc123"});
  // パスワード：abc123です
  EXPECT_EQ(harvest_passwords("\xE3\x83\x91\xE3\x82\xB9\xE3\x83\xAF\xE3\x83\xBC\xE3\x83\x89\xEF\xBC\x9A" "abc123"
                              "\xE3\x81\xA7\xE3\x81\x99"),
            V{"abc123"});
  // パスワードは「x9y8」です
  EXPECT_EQ(harvest_passwords("\xE3\x83\x91\xE3\x82\xB9\xE3\x83\xAF\xE3\x83\xBC\xE3\x83\x89\xE3\x81\xAF\xE3\x80\x8C"
                              "x9y8\xE3\x80\x8D\xE3\x81\xA7\xE3\x81\x99"),
            V{"x9y8"});
  // パスはzz99です。 (short cue, glued は and です)
  EXPECT_EQ(harvest_passwords("\xe3\x83\x91\xe3\x82\xb9\xe3\x81\xafzz99\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82"), V{"zz99"});
  // 解凍パスワードは下記の通りです：\n  Ab12  (the password on the next line, filler on the cue's line)
  EXPECT_EQ(harvest_passwords("\xe8\xa7\xa3\xe5\x87\x8d\xe3\x83\x91\xe3\x82\xb9\xe3\x83\xaf\xe3\x83\xbc\xe3\x83\x89"
                              "\xe3\x81\xaf\xe4\xb8\x8b\xe8\xa8\x98\xef\xbc\x9a\n  Ab12\n"),
            V{"Ab12"});
  // 暗証番号：4455
  EXPECT_EQ(harvest_passwords("\xe6\x9a\x97\xe8\xa8\xbc\xe7\x95\xaa\xe5\x8f\xb7\xef\xbc\x9a" "4455"), V{"4455"});
}

TEST(Passwords, WordsThatOnlyContainACueGiveNothing) {
  EXPECT_TRUE(harvest_passwords("we will bypass the queue and pass the test").empty());
  EXPECT_TRUE(harvest_passwords("Your passport and bypass are fine.").empty());
  EXPECT_TRUE(harvest_passwords("the pwned list; pw is weak").empty());
  EXPECT_TRUE(harvest_passwords("").empty());
}

TEST(Passwords, OrderOfAppearanceAndBounds) {
  EXPECT_EQ(harvest_passwords("pass: one\nPassword: two\npwd=one"), (V{"one", "two"}));
  std::string many;
  for (int i = 0; i < 100; ++i) many += "password: p" + std::to_string(i) + "\n";
  const auto got = harvest_passwords(many);
  ASSERT_EQ(got.size(), limits::max_password_candidates);
  EXPECT_EQ(got.front(), "p0");
  EXPECT_TRUE(harvest_passwords("password: " + std::string(limits::max_password_length + 1, 'x')).empty());
  // Text past max_password_text is not searched.
  EXPECT_TRUE(harvest_passwords(std::string(limits::max_password_text, ' ') + "password: late").empty());
}

}  // namespace
}  // namespace mamori::engine
