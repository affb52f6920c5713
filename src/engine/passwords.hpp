// Passwords that a message gives for its encrypted attachments ("the password is: 1234", "パスワード：abc").
// Containers push these in front of ScanContext::passwords() before scanning the attachments.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mamori::engine {

namespace limits {
// Candidates returned for one text, and the bytes of text searched.
inline constexpr std::size_t max_password_candidates = 16;
inline constexpr std::size_t max_password_text = 1u << 20;
}  // namespace limits

/// Words that follow "password", "passwort", "pass:", "pwd:", "パスワード", "暗証番号", "密码", "пароль", "contraseña",
/// "mot de passe", "senha", "wachtwoord" (case-insensitive for ASCII), after separators such as ':', '=', "is", "は"
/// and quotes; at most two per mention, trimmed of punctuation and of a trailing "です". Best first (order of
/// appearance), deduplicated, bounded by limits::max_password_candidates.
std::vector<std::string> harvest_passwords(std::string_view text);

}  // namespace mamori::engine
