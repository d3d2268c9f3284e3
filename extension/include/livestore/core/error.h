// The core zone reports failures by throwing ls::Error with a SQLSTATE; the
// bridge turns it into a POD error slot that the Postgres zone can ereport.
#pragma once
#include <stdexcept>
#include <string>

#include "livestore/core/cpp_only.h"

namespace ls {

// SQLSTATEs the project raises. Class 22 is "your input is malformed";
// class LS is ours (documented in README.md, "Errors").
namespace sqlstate {
inline constexpr const char* kNullValue = "22004";        // null_value_not_allowed
inline constexpr const char* kInvalidParameter = "22023"; // invalid_parameter_value
inline constexpr const char* kOutOfRange = "22003";       // numeric_value_out_of_range
inline constexpr const char* kInvalidText = "22P02";      // invalid_text_representation
inline constexpr const char* kProgramLimit = "54000";     // program_limit_exceeded
inline constexpr const char* kInternal = "XX000";
inline constexpr const char* kStaleHead = "LS001";        // batch does not extend the head
inline constexpr const char* kUnknownStore = "LS002";
inline constexpr const char* kAppendOnly = "LS003";
inline constexpr const char* kIncompatibleTable = "LS004";
}  // namespace sqlstate

class Error : public std::runtime_error {
 public:
  Error(const char* code, const std::string& message) : std::runtime_error(message) {
    for (int i = 0; i < 5; ++i) sqlstate_[i] = code[i];
    sqlstate_[5] = '\0';
  }
  const char* sqlstate() const noexcept { return sqlstate_; }

 private:
  char sqlstate_[6];
};

}  // namespace ls
