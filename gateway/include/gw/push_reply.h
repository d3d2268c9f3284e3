// The JSON bodies of push answers (POST). Every failure has the shape
// {"success":false,"error":<message>[,"code":<SQLSTATE>]...}: the stock client
// only checks `success`, people and other clients read the rest.
#pragma once
#include <string>

namespace gw {

// {"success":false,"error":message[,"code":code][,"detail":detail as a
// string][,"head":head]}; code and detail are left out when empty, head when
// negative.
std::string PushErrorJson(const std::string& message, const std::string& code, long head = -1,
                          const std::string& detail = "");

// The 422 of a batch that a hook refused with livestore.reject (LS005):
// {"success":false,"error":message,"code":"LS005"[,"detail":...]}. `detail`
// is the error's DETAIL, i.e. reject()'s jsonb argument as text: embedded as
// that JSON value when it is JSON, as a string otherwise, left out when empty.
std::string RejectedJson(const std::string& message, const std::string& detail);

// The 500 of any other error raised inside a hook: the server's logic failed,
// so neither the client's data nor the hook's internals are described.
// {"success":false,"error":"a server-side hook failed","code":sqlstate}
std::string HookFailedJson(const std::string& sqlstate);

}  // namespace gw
