#include "shape/filter.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace ulak::shape {
namespace {

// Seed 001's example order, as the payload a filter sees.
const char* kPayload = R"({
  "event": "order.created",
  "timestamp": "2025-01-15T10:30:00Z",
  "organization_id": "org-1",
  "data": {
    "order_number": "ORD-2025-001",
    "status": "pending",
    "customer": {"name": "Ahmet Yılmaz", "email": "ahmet@example.com", "vip": true},
    "items": [{"name": "Margherita Pizza", "quantity": 2, "price": 89.90},
              {"name": "Ayran", "quantity": 1, "price": 15}],
    "tags": ["new", "web"],
    "total_amount": 179.80,
    "coupon": null,
    "big": 18446744073709551615
  },
  "metadata": {"source": "web"}
})";

struct Case {
  const char* filter;
  bool match;
};

TEST(Filter, EveryOperatorArraysMissingPathsAndTypeMismatches) {
  const boost::json::value payload = boost::json::parse(kPayload);
  const Case cases[] = {
      // equality by value
      {R"({"data.status": "pending"})", true},
      {R"({"data.status": "paid"})", false},
      {R"({"event": "order.created", "metadata.source": "web"})", true},
      {R"({"data.customer": {"name": "Ahmet Yılmaz", "email": "ahmet@example.com", "vip": true}})", true},
      {R"({"data.customer": {"name": "Ahmet Yılmaz"}})", false},
      {R"({"data.tags": ["new", "web"]})", true},
      {R"({"data.items.0.quantity": 2})", true},
      {R"({"data.total_amount": 179.8})", true},
      {R"({"data.items.quantity": 1.0})", true},  // 1 == 1.0
      // $eq / $neq
      {R"({"data.status": {"$eq": "pending"}})", true},
      {R"({"data.status": {"$neq": "pending"}})", false},
      {R"({"data.status": {"$neq": "paid"}})", true},
      {R"({"data.missing": {"$neq": "x"}})", true},
      // comparisons
      {R"({"data.total_amount": {"$gte": 100}})", true},
      {R"({"data.total_amount": {"$gt": 179.8}})", false},
      {R"({"data.total_amount": {"$gte": 179.8, "$lt": 180}})", true},
      {R"({"data.total_amount": {"$lte": 179.79}})", false},
      {R"({"data.total_amount": {"$lt": 200}})", true},
      {R"({"data.order_number": {"$gt": "ORD-2024"}})", true},
      {R"({"data.big": {"$gt": 9223372036854775807}})", true},
      {R"({"data.big": {"$lt": -1}})", false},
      // type mismatches are false, never errors
      {R"({"data.total_amount": {"$gt": "100"}})", false},
      {R"({"data.total_amount": "179.8"})", false},
      {R"({"data.status": {"$lt": 5}})", false},
      {R"({"data.customer.vip": 1})", false},
      {R"({"data.coupon": false})", false},
      {R"({"data.coupon": null})", true},
      // $in / $nin
      {R"({"data.status": {"$in": ["pending", "paid"]}})", true},
      {R"({"data.status": {"$in": ["paid"]}})", false},
      {R"({"data.status": {"$nin": ["paid", "cancelled"]}})", true},
      {R"({"data.tags": {"$in": ["web"]}})", true},
      {R"({"data.tags": {"$nin": ["web"]}})", false},
      // $exist
      {R"({"data.coupon": {"$exist": true}})", true},
      {R"({"data.discount": {"$exist": true}})", false},
      {R"({"data.discount": {"$exist": false}})", true},
      {R"({"data.items.name": {"$exist": true}})", true},
      {R"({"data.status.deeper": {"$exist": true}})", false},
      // $regex (RE2)
      {R"({"data.customer.email": {"$regex": "@example\\.com$"}})", true},
      {R"({"data.customer.email": {"$regex": "^admin@"}})", false},
      {R"({"data.items.name": {"$regex": "(?i)pizza"}})", true},
      {R"({"data.total_amount": {"$regex": "179"}})", false},
      // arrays: any element
      {R"({"data.items.name": "Margherita Pizza"})", true},
      {R"({"data.items.name": "Lahmacun"})", false},
      {R"({"data.items.price": {"$gt": 80}})", true},
      {R"({"data.items.price": {"$gt": 90}})", false},
      {R"({"data.tags": "web"})", true},
      // missing paths
      {R"({"data.nothing": "x"})", false},
      {R"({"nothing.at.all": {"$gt": 1}})", false},
      // nested logic
      {R"({"$and": [{"data.status": "pending"}, {"data.total_amount": {"$gte": 100}}]})", true},
      {R"({"$and": [{"data.status": "pending"}, {"data.total_amount": {"$gte": 1000}}]})", false},
      {R"({"$or": [{"data.status": "paid"}, {"data.customer.vip": true}]})", true},
      {R"({"$or": [{"data.status": "paid"}, {"data.customer.vip": false}]})", false},
      {R"({"$not": {"data.status": "paid"}})", true},
      {R"({"$not": {"$or": [{"data.status": "pending"}, {"x": 1}]}})", false},
      {R"({"$and": [{"$or": [{"data.tags": "app"}, {"$not": {"data.items.name": "Lahmacun"}}]}, {"event": {"$regex": "^order\\."}}]})", true},
      {R"({})", true},
  };
  for (const Case& c : cases) {
    Result<std::shared_ptr<const Filter>> filter = Filter::Compile(boost::json::parse(c.filter));
    ASSERT_TRUE(filter.ok()) << c.filter << ": " << filter.status().message();
    EXPECT_EQ((*filter)->Matches(payload), c.match) << c.filter;
  }
}

struct Invalid {
  const char* filter;
  const char* place;
};

TEST(Filter, InvalidFiltersNameThePlace) {
  std::string deep = R"({"a": )";
  for (int i = 0; i < 16; ++i) deep += R"({"$not": )";
  deep += R"({"x": 1})";
  deep += std::string(17, '}');
  std::string wide = R"({"data.x": {"$in": [)";
  for (int i = 0; i < 200; ++i) wide += (i ? "," : "") + std::to_string(i);
  wide += "]}}";
  const Invalid cases[] = {
      {R"({"$and": [{"data.status": "pending"}, {"data.total_amount": {"$gte": [1]}}]})", "filter.$and[1].data.total_amount.$gte"},
      {R"({"data.status": {"$like": "p%"}})", "filter.data.status.$like"},
      {R"({"data.status": {"$in": "pending"}})", "filter.data.status.$in"},
      {R"({"data.status": {"$nin": {"a": 1}}})", "filter.data.status.$nin"},
      {R"({"data.email": {"$regex": "(unclosed"}})", "filter.data.email.$regex"},
      {R"({"data.email": {"$regex": 5}})", "filter.data.email.$regex"},
      {R"({"data.x": {"$exist": "yes"}})", "filter.data.x.$exist"},
      {R"({"$or": {"a": 1}})", "filter.$or"},
      {R"({"$and": []})", "filter.$and"},
      {R"({"$or": [{"a": 1}, 5]})", "filter.$or[1]"},
      {R"({"$not": [1]})", "filter.$not"},
      {R"({"$where": "1"})", "filter.$where"},
      {R"({"data..x": 1})", "filter.data..x"},
      {R"({"data.x": {"$eq": 1, "y": 2}})", "filter.data.x.y"},
      {R"([1])", "filter"},
      {deep.c_str(), "filter.a.$not.$not.$not.$not.$not.$not.$not.$not.$not.$not.$not.$not.$not.$not.$not"},
      {wide.c_str(), "filter.data.x.$in[197]"},
  };
  for (const Invalid& c : cases) {
    Result<std::shared_ptr<const Filter>> filter = Filter::Compile(boost::json::parse(c.filter));
    ASSERT_FALSE(filter.ok()) << c.filter;
    EXPECT_EQ(filter.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(filter.status().field(), c.place) << c.filter << ": " << filter.status().message();
  }
}

}  // namespace
}  // namespace ulak::shape
