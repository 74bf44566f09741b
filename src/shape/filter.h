// Filters: a JSON condition over the payload ulak would send ({"event", "timestamp",
// "organization_id", "data", "metadata"}), evaluated when an event is published; an event
// that does not match creates no delivery for that webhook (SPEC §7, issue 13).
//
// Syntax (the operators Convoy and Hookdeck users know):
//   {"data.status": "pending"}                      equality by value (deep, 1 == 1.0)
//   {"data.total_amount": {"$gte": 100}}            $eq $neq $gt $gte $lt $lte $in $nin
//   {"data.email": {"$regex": "@example\\.com$"}}   RE2 syntax, matches anywhere unless anchored
//   {"data.coupon": {"$exist": false}}
//   {"$and": [c1, c2]}, {"$or": [c1, c2]}, {"$not": c}
// Several members in one object must all hold; several operators on one path too. Paths are
// dotted; a segment meeting an array fans out over its elements (or indexes it when it is a
// number), and a path ending at an array also tests its elements: `data.items.name` matches
// when any item's name does. $neq, $nin and `$exist: false` are the negations of $eq, $in and
// `$exist: true` (no element equals). Comparing values of different JSON types is false;
// $gt and friends compare numbers with numbers and strings with strings (bytewise).
// Limits: 16 levels of nesting, 200 JSON values in all.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <string_view>

#include "common/status.h"

namespace ulak::shape {

class Filter {
 public:
  // A bad filter is kInvalidArgument whose field names the place, as
  // "filter.$and[1].data.total_amount.$gte" (`field` is the first part).
  static Result<std::shared_ptr<const Filter>> Compile(const boost::json::value& spec, std::string_view field = "filter");

  // Thread-safe (const; the regexes are RE2, which is).
  bool Matches(const boost::json::value& payload) const;

  struct Node;
  ~Filter();
  Filter();

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace ulak::shape
