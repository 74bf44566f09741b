#include "api/stats.h"

#include <boost/json/array.hpp>

#include <map>

#include "api/handler.h"
#include "api/json_io.h"

namespace ulak::api {
namespace {

// More would be a chart nobody can read and a response nobody wants.
constexpr int64_t kMaxBuckets = 2000;

struct BucketKind {
  std::string_view name;
  int64_t ms;
  std::chrono::hours default_span;
};

constexpr BucketKind kKinds[] = {
    {"minute", 60'000, std::chrono::hours(1)},
    {"hour", 3'600'000, std::chrono::hours(24)},
    {"day", 86'400'000, std::chrono::hours(24 * 7)},
};

Result<TimePoint> TimeParam(const http::Request& request, std::string_view name, TimePoint fallback) {
  std::optional<std::string_view> text = request.GetQuery(name);
  if (!text || text->empty()) return fallback;
  std::optional<TimePoint> t = ParseTime(*text);
  if (!t) return InvalidArgument(std::string(name) + " must be an RFC 3339 time or unix seconds.").WithField(std::string(name));
  return *t;
}

Result<http::Response> DeliveryStats(ApiContext& ctx, const http::Request& request, const Principal& principal) {
  ULAK_ASSIGN_OR_RETURN(std::string org_id, ResolveOrganization(principal, request.GetQuery("organization_id"),
                                                                "organization_id", ctx.store));
  const BucketKind* kind = &kKinds[1];
  if (std::optional<std::string_view> b = request.GetQuery("bucket"); b && !b->empty()) {
    kind = nullptr;
    for (const BucketKind& k : kKinds) {
      if (k.name == *b) kind = &k;
    }
    if (kind == nullptr) return InvalidArgument("bucket must be minute, hour or day.").WithField("bucket");
  }
  store::DeliveryBucketFilter filter;
  filter.organization_id = org_id;
  filter.bucket_ms = kind->ms;
  ULAK_ASSIGN_OR_RETURN(filter.to, TimeParam(request, "to", ctx.clock.Now()));
  ULAK_ASSIGN_OR_RETURN(filter.from, TimeParam(request, "from", filter.to - kind->default_span));
  if (filter.from >= filter.to) return InvalidArgument("from must be before to.").WithField("from");
  const int64_t from_ms = ToUnixMillis(filter.from);
  const int64_t to_ms = ToUnixMillis(filter.to);
  const int64_t first = from_ms - ((from_ms % kind->ms) + kind->ms) % kind->ms;  // floor, also before 1970
  if ((to_ms - first) / kind->ms >= kMaxBuckets) {
    return InvalidArgument("The range holds more than " + std::to_string(kMaxBuckets) + " " +
                           std::string(kind->name) + " buckets; narrow it or use a larger bucket.")
        .WithField("bucket");
  }
  if (std::optional<std::string_view> w = request.GetQuery("webhook_config_id"); w && !w->empty()) {
    // Scoped: a webhook of another organization is simply not found.
    ULAK_RETURN_IF_ERROR(ctx.store.GetWebhook(org_id, *w).status());
    filter.webhook_id = std::string(*w);
  }
  ULAK_ASSIGN_OR_RETURN(std::vector<store::DeliveryBucket> rows, ctx.store.GetDeliveryBuckets(filter));
  std::map<int64_t, const store::DeliveryBucket*> by_start;
  for (const auto& row : rows) by_start[ToUnixMillis(row.start)] = &row;
  // Every bucket of the range, empty ones included, so a chart's x axis is continuous.
  boost::json::array buckets;
  for (int64_t start = first; start < to_ms; start += kind->ms) {
    auto it = by_start.find(start);
    const store::DeliveryBucket empty{};
    const store::DeliveryBucket& b = it == by_start.end() ? empty : *it->second;
    buckets.push_back(boost::json::object{{"start", FormatRfc3339(FromUnixMillis(start))},
                                          {"success", b.success},
                                          {"failed", b.failed},
                                          {"retrying", b.retrying},
                                          {"avg_response_ms", b.avg_response_ms},
                                          {"p95_response_ms", b.p95_response_ms}});
  }
  return JsonResponse(200, boost::json::object{{"organization_id", org_id},
                                               {"webhook_config_id", filter.webhook_id},
                                               {"bucket", kind->name},
                                               {"from", FormatRfc3339(filter.from)},
                                               {"to", FormatRfc3339(filter.to)},
                                               {"buckets", std::move(buckets)}});
}

}  // namespace

void AddStatsRoutes(ApiContext& ctx, http::Router& router) {
  router.Add(http::Method::kGet, "/api/stats/deliveries",
             WithAuth(ctx, [&ctx](const auto& req, const auto&, const auto& who) {
               return DeliveryStats(ctx, req, who);
             }));
}

}  // namespace ulak::api
