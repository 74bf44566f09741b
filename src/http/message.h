// Plain HTTP request and response types. They keep Boost out of every translation unit but
// the server's own: routes and handlers see only these.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ulak::http {

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOptions, kOther };

std::string_view MethodName(Method m);

struct Header {
  std::string name;   // as received
  std::string value;
};

struct Request {
  Method method = Method::kGet;
  std::string target;  // raw request-target, e.g. "/api/webhooks?limit=10"
  std::string path;    // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<Header> headers;
  std::string body;
  std::string request_id;  // from X-Request-Id when sane, else generated
  std::string remote_address;

  // Case-insensitive header lookup; the first occurrence wins.
  std::optional<std::string_view> GetHeader(std::string_view name) const;
  std::optional<std::string_view> GetQuery(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  std::string content_type = "application/json";

  Response& SetHeader(std::string name, std::string value);
};

// Builds {"error": {"code": code, "message": message}} with the given status.
Response ErrorResponse(int status, std::string_view code, std::string_view message);

// A handler answers by calling Reply exactly once, on any thread, now or later. Long work
// (a durable publish waiting for its group commit, a test delivery) calls it when done, so
// no I/O thread waits on it.
using Reply = std::function<void(Response&&)>;
using Handler = std::function<void(Request&& request, Reply reply)>;

// Splits "a=1&b=x%20y" into decoded pairs ('+' means space). Invalid escapes kept verbatim.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);
std::string PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace ulak::http
