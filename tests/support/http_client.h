// A blocking HTTP client for tests (libcurl easy), plus a raw-socket exchange for requests
// libcurl will not send (oversized headers, stalled clients, garbage).
#pragma once

#include <string>
#include <vector>

namespace ulak::testing {

struct HttpResult {
  int status = 0;  // 0: transport error (see error)
  std::string body;
  std::vector<std::string> headers;  // "Name: value" lines
  std::string error;

  // Case-insensitive; empty if absent.
  std::string Header(const std::string& name) const;
};

HttpResult HttpRequest(const std::string& method, const std::string& url,
                       const std::vector<std::string>& headers = {}, const std::string& body = "");

// Sends bytes to 127.0.0.1:port, then reads until the server closes or timeout_ms passes.
std::string RawExchange(int port, const std::string& bytes, int timeout_ms = 5000);

}  // namespace ulak::testing
