#include "shape/fields.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ulak::shape {
namespace {

const char* kData = R"({
  "id": "ord_1", "order_number": "ORD-2025-001", "total_amount": 179,
  "customer": {"name": "Ahmet", "email": "a@example.com", "address": {"city": "İstanbul", "zip": "34000"}},
  "items": [{"name": "Margherita Pizza", "quantity": 2, "price": 89}, {"name": "Ayran", "quantity": 1}, "loose"],
  "notes": "ring twice"
})";

std::string Select(const char* fields, const char* data = kData) {
  Result<std::shared_ptr<const FieldSelection>> selection = FieldSelection::Compile(boost::json::parse(fields));
  EXPECT_TRUE(selection.ok()) << fields << ": " << selection.status().message();
  if (!selection.ok()) return "";
  return boost::json::serialize((*selection)->Apply(boost::json::parse(data)));
}

TEST(Fields, KeepsOnlyTheSelectedPartsInDataOrder) {
  EXPECT_EQ(Select(R"(["total_amount", "id", "order_number", "items[].name"])"),
            R"({"id":"ord_1","order_number":"ORD-2025-001","total_amount":179,)"
            R"("items":[{"name":"Margherita Pizza"},{"name":"Ayran"}]})");
  EXPECT_EQ(Select(R"(["customer.email", "customer.address.city"])"),
            R"({"customer":{"email":"a@example.com","address":{"city":"İstanbul"}}})");
  EXPECT_EQ(Select(R"(["customer", "customer.email"])"), 
            R"({"customer":{"name":"Ahmet","email":"a@example.com","address":{"city":"İstanbul","zip":"34000"}}})");
  EXPECT_EQ(Select(R"(["items[]"])"),
            R"({"items":[{"name":"Margherita Pizza","quantity":2,"price":89},{"name":"Ayran","quantity":1},"loose"]})");
  EXPECT_EQ(Select(R"(["items[].price", "items[].quantity"])"),
            R"({"items":[{"quantity":2,"price":89},{"quantity":1}]})");
}

TEST(Fields, MissingPathsAndMismatchedTypesAreLeftOut) {
  EXPECT_EQ(Select(R"(["nope", "customer.phone", "id"])"), R"({"id":"ord_1"})");
  EXPECT_EQ(Select(R"(["notes[].x", "id.deeper", "items.name"])"), R"({})");
  EXPECT_EQ(Select(R"(["id"])", R"([1,2])"), R"({})");
}

TEST(Fields, MalformedListsNameThePlace) {
  struct Bad {
    const char* fields;
    const char* place;
  } cases[] = {
      {R"("id")", "fields"},       {R"([])", "fields"},           {R"(["id", 5])", "fields[1]"},
      {R"(["id", ""])", "fields[1]"}, {R"(["a..b"])", "fields[0]"}, {R"(["items[0].name"])", "fields[0]"},
      {R"(["items[.name"])", "fields[0]"}, {R"(["a.", "b"])", "fields[0]"}, {R"(["[]"])", "fields[0]"},
  };
  for (const Bad& c : cases) {
    Result<std::shared_ptr<const FieldSelection>> selection = FieldSelection::Compile(boost::json::parse(c.fields));
    ASSERT_FALSE(selection.ok()) << c.fields;
    EXPECT_EQ(selection.status().field(), c.place) << c.fields;
  }
}

}  // namespace
}  // namespace ulak::shape
