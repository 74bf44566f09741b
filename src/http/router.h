// Routes requests by method and path pattern ("/api/organizations/{id}/keys") to handlers.
// Unknown paths answer 404, known paths with another method 405 with an Allow header.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace ulak::http {

class PathParams {
 public:
  void Add(std::string name, std::string value) { params_.emplace_back(std::move(name), std::move(value)); }
  // The value of {name}; empty if the pattern has no such parameter.
  const std::string& Get(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

using RouteHandler = std::function<void(Request&& request, const PathParams& params, Reply reply)>;

class Router {
 public:
  // Patterns are literal segments and {name} segments. Register more specific literal
  // routes before parameterised ones that could also match: the first match wins.
  void Add(Method method, std::string_view pattern, RouteHandler handler);
  void Dispatch(Request&& request, Reply reply) const;

  struct RouteInfo {
    Method method;
    std::string pattern;  // "/api/webhooks/{id}", as registered (normalized slashes)
  };
  // Every route in registration order: what the OpenAPI document is checked against.
  std::vector<RouteInfo> Routes() const;

 private:
  struct Route {
    Method method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  static bool Match(const Route& route, const std::vector<std::string_view>& path, PathParams* params);
  std::vector<Route> routes_;
};

}  // namespace ulak::http
