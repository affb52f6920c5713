// Passwords that a message gives for its encrypted attachments ("the password is: 1234", "パスワード：abc").
// The one harvester for every kind of message (.eml/mbox bodies and subjects, Outlook .msg bodies): containers put
// its candidates in front of ScanContext::passwords() before scanning their attachments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mamori::engine {

namespace limits {
// Candidates returned for one text, their length, and the bytes of text searched.
inline constexpr std::size_t max_password_candidates = 32;
inline constexpr std::size_t max_password_length = 64;
inline constexpr std::size_t max_password_text = 1u << 20;
// How far into the next line a password is looked for when its keyword ends a line ("Password:\n  abc123").
inline constexpr std::size_t max_password_next_line = 200;
}  // namespace limits

/// Tokens that follow a password cue on the same line, or on the next line when nothing but filler follows it.
/// Cues (case-insensitive for ASCII): "password", "passwort", "passcode", "passwd", "kennwort", "contraseña",
/// "senha", "mot de passe", "wachtwoord", "пароль", "パスワード", "暗証番号", "密码"; the short cues "pass", "pwd",
/// "pw", "パス", "解凍" only with a separator after them (':', '=', '：', 'は'), so that "pass the test" is no cue.
/// Filler between cue and password ("is", "for the zip file", "は", "下記", quotes, 「」) is skipped, Japanese
/// endings glued to the password ("abc123です") are cut. At most two tokens per cue; a token that ends a sentence
/// ("abc123.") ends the cue and is offered without its full stop first, then as written. Order of appearance,
/// deduplicated, bounded by limits::max_password_candidates and max_password_length.
std::vector<std::string> harvest_passwords(std::string_view text);

}  // namespace mamori::engine
