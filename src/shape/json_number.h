// JSON numbers as people wrote them (issue 13, SPEC §7).
//
// Boost.JSON 1.81 writes doubles as "8.99E1" and parses numbers it cannot hold into a double
// ("1e999" becomes infinity, a 30-digit integer loses its last digits). ulak therefore:
//  - writes every JSON value it produces (payloads, API answers, stored configuration) with
//    SerializeJson, whose doubles read as JavaScript's JSON.stringify writes them
//    ("89.9", "1e+21", "1e-7"; integers that fit 64 bits exactly as they are);
//  - parses published JSON with ParseJsonKeepingDigits, which refuses numbers outside a
//    double's range (naming their path) and keeps the publisher's text of every number a
//    double cannot hold exactly, so that serializing gives those digits back.
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace ulak::shape {

// The publisher's text of each number whose double differs from what was written
// (12345678901234567890123, 0.1000000000000000000001), keyed by the double's bits. Two such
// texts with the same double keep the first; a plain number equal to that double is then
// written with those digits too (the same double, so the same value for any JSON reader).
class NumberDigits {
 public:
  bool empty() const { return by_bits_.empty(); }
  // Keeps the first text recorded for `d`.
  void Add(double d, std::string_view text);
  void Merge(const NumberDigits& other);
  // The publisher's text for `d`, or nullptr.
  const std::string* Find(double d) const;

 private:
  std::unordered_map<uint64_t, std::string> by_bits_;
};

struct ParsedJson {
  boost::json::value value;
  NumberDigits digits;
};

// Reads the numbers of valid JSON `text` without building a value: the digits to keep, or
// kInvalidArgument for a number outside a double's range (as ParseJsonKeepingDigits).
Result<NumberDigits> ScanNumbers(std::string_view text, std::string_view root_name = "");

// Parses `text` (up to 64 levels deep). A number outside a double's range (1e999, 1e-999,
// a 400-digit integer) is kInvalidArgument with the field set to its path from the root, as
// `root_name` + ".items[2].price" (without root_name: "items[2].price"). Malformed JSON is
// kMalformed with line and column.
Result<ParsedJson> ParseJsonKeepingDigits(std::string_view text, std::string_view root_name = "");

// Records the digits of every integer in `v` above INT64_MAX, so that it survives a trip
// through a double (Lua has no unsigned integers) and is written back unchanged.
void KeepLargeIntegers(const boost::json::value& v, NumberDigits& digits);

// Finds a number that is not finite in `v` (one built by hand rather than parsed): its path
// under `root_name`, or an empty string if every number is finite.
std::string FindNonFiniteNumber(const boost::json::value& v, std::string_view root_name);

// Appends `d` as JSON.stringify writes it: the shortest digits that read back as `d`, in
// exponent form only when the exponent is >= 21 or <= -7; -0 as "0"; NaN and infinities as
// "null" (as JSON.stringify does; ParseJsonKeepingDigits never produces them).
void AppendJsNumber(std::string& out, double d);

// Compact JSON (no spaces), object members in their order, strings escaped as Boost.JSON
// does, doubles by AppendJsNumber unless `digits` holds the publisher's text for them.
void AppendJson(std::string& out, const boost::json::value& v, const NumberDigits* digits = nullptr);
void AppendJsonString(std::string& out, std::string_view s);  // quoted and escaped
std::string SerializeJson(const boost::json::value& v, const NumberDigits* digits = nullptr);

}  // namespace ulak::shape
