#include "http/router.h"

namespace ulak::http {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

}  // namespace

const std::string& PathParams::Get(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [k, v] : params_) {
    if (k == name) return v;
  }
  return kEmpty;
}

void Router::Add(Method method, std::string_view pattern, RouteHandler handler) {
  Route route{method, {}, std::move(handler)};
  for (std::string_view s : SplitPath(pattern)) route.segments.emplace_back(s);
  routes_.push_back(std::move(route));
}

std::vector<Router::RouteInfo> Router::Routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const Route& route : routes_) {
    std::string pattern;
    for (const std::string& seg : route.segments) pattern += "/" + seg;
    out.push_back({route.method, pattern.empty() ? "/" : pattern});
  }
  return out;
}

bool Router::Match(const Route& route, const std::vector<std::string_view>& path, PathParams* params) {
  if (route.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = route.segments[i];
    if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
      if (params != nullptr) params->Add(seg.substr(1, seg.size() - 2), std::string(path[i]));
    } else if (seg != path[i]) {
      return false;
    }
  }
  return true;
}

void Router::Dispatch(Request&& request, Reply reply) const {
  const std::vector<std::string_view> path = SplitPath(request.path);
  std::string allowed;
  for (const Route& route : routes_) {
    if (!Match(route, path, nullptr)) continue;
    const bool method_ok = route.method == request.method ||
                           (request.method == Method::kHead && route.method == Method::kGet);
    if (method_ok) {
      PathParams params;
      Match(route, path, &params);
      route.handler(std::move(request), params, std::move(reply));
      return;
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += MethodName(route.method);
  }
  if (allowed.empty()) {
    reply(ErrorResponse(404, "not_found", "No route for " + request.path + "."));
    return;
  }
  Response r = ErrorResponse(405, "method_not_allowed",
                             std::string(MethodName(request.method)) + " is not allowed on " +
                                 request.path + "; allowed: " + allowed + ".");
  r.SetHeader("Allow", allowed);
  reply(std::move(r));
}

}  // namespace ulak::http
