// Field selection: which parts of `data` a webhook's deliveries carry (SPEC §7, issue 13).
//
// `fields` is a list of paths into `data`:
//   "id"                 the member `id`, whole
//   "customer.email"     `email` inside the object `customer` (which keeps only what is selected)
//   "items[].name"       `items` as an array whose objects hold only `name`
//   "items[]"            `items` whole, if it is an array
// A path that does not exist in an event (or meets another type than it names: a non-object
// for ".", a non-array for "[]") is left out, not an error; array elements that are not
// objects are left out of "items[].x", and so is an object none of whose selected members
// exist ("customer.phone" without a phone leaves `customer` out). Members keep the order they have in `data`. A path
// selected whole wins over deeper ones on the same member. Names are any characters but
// '.', '[' and ']'; at most 100 paths of at most 200 characters.
#pragma once

#include <boost/json/value.hpp>

#include <memory>
#include <string_view>

#include "common/status.h"

namespace ulak::shape {

class FieldSelection {
 public:
  // A malformed list is kInvalidArgument naming the place, as "fields[2]".
  static Result<std::shared_ptr<const FieldSelection>> Compile(const boost::json::value& spec,
                                                               std::string_view field = "fields");

  // The selected parts of `data` (an object; anything else gives an empty object).
  boost::json::value Apply(const boost::json::value& data) const;

  struct Node;
  FieldSelection();
  ~FieldSelection();

 private:
  std::unique_ptr<Node> root_;
};

}  // namespace ulak::shape
