#include "shape/filter.h"

#include <re2/re2.h>

#include <cmath>
#include <string>
#include <vector>

namespace ulak::shape {

enum class Op { kEq, kNeq, kGt, kGte, kLt, kLte, kIn, kNin, kExist, kRegex };

struct Filter::Node {
  enum class Kind { kAnd, kOr, kNot, kPath } kind = Kind::kAnd;
  std::vector<std::unique_ptr<Node>> children;  // kAnd, kOr, kNot (one)
  // kPath: every test must hold.
  std::vector<std::string> path;
  struct Test {
    Op op;
    boost::json::value operand;
    std::unique_ptr<RE2> regex;
  };
  std::vector<Test> tests;
};

namespace {

constexpr int kMaxDepth = 16;
constexpr int kMaxNodes = 200;

Status Bad(const std::string& place, std::string message) {
  return InvalidArgument(place + ": " + std::move(message)).WithField(place);
}

// Depth and size are checked before anything is compiled, naming the first place that breaks them.
Status CheckSize(const boost::json::value& v, const std::string& place, int depth, int& nodes) {
  if (++nodes > kMaxNodes) return Bad(place, "a filter may hold at most 200 values.");
  if (depth > kMaxDepth) return Bad(place, "a filter may nest at most 16 levels deep.");
  if (v.is_array()) {
    const auto& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      ULAK_RETURN_IF_ERROR(CheckSize(a[i], place + "[" + std::to_string(i) + "]", depth + 1, nodes));
    }
  } else if (v.is_object()) {
    for (const auto& [k, child] : v.get_object()) {
      ULAK_RETURN_IF_ERROR(CheckSize(child, place + "." + std::string(k), depth + 1, nodes));
    }
  }
  return Status::Ok();
}

bool IsNumber(const boost::json::value& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }

// <0, 0, >0; REQUIRES: both numbers.
int CompareNumbers(const boost::json::value& a, const boost::json::value& b) {
  if (!a.is_double() && !b.is_double()) {
    // Exact for any mix of int64 and uint64.
    if (a.is_int64() && b.is_int64()) return a.get_int64() < b.get_int64() ? -1 : a.get_int64() > b.get_int64();
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() < b.get_uint64() ? -1 : a.get_uint64() > b.get_uint64();
    if (a.is_int64()) return a.get_int64() < 0 ? -1 : -CompareNumbers(b, a);  // b uint64
    // a uint64, b int64
    if (b.get_int64() < 0) return 1;
    const uint64_t bu = static_cast<uint64_t>(b.get_int64());
    return a.get_uint64() < bu ? -1 : a.get_uint64() > bu;
  }
  const double x = a.is_double() ? a.get_double() : a.is_int64() ? static_cast<double>(a.get_int64())
                                                                  : static_cast<double>(a.get_uint64());
  const double y = b.is_double() ? b.get_double() : b.is_int64() ? static_cast<double>(b.get_int64())
                                                                  : static_cast<double>(b.get_uint64());
  return x < y ? -1 : x > y;
}

bool JsonEquals(const boost::json::value& a, const boost::json::value& b) {
  if (IsNumber(a) && IsNumber(b)) return CompareNumbers(a, b) == 0;
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case boost::json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& [k, v] : x) {
        const boost::json::value* w = y.if_contains(k);
        if (w == nullptr || !JsonEquals(v, *w)) return false;
      }
      return true;
    }
    default: return a == b;
  }
}

// <0, 0, >0, or nullopt when the types differ (then every comparison is false).
std::optional<int> Order(const boost::json::value& a, const boost::json::value& b) {
  if (IsNumber(a) && IsNumber(b)) {
    const bool nan = (a.is_double() && std::isnan(a.get_double())) || (b.is_double() && std::isnan(b.get_double()));
    if (nan) return std::nullopt;
    return CompareNumbers(a, b);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.get_string().subview().compare(b.get_string().subview());
    return c < 0 ? -1 : c > 0;
  }
  return std::nullopt;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

// Whether `pred` holds for some value the path reaches from `v` (see filter.h).
template <typename Pred>
bool AnyAt(const boost::json::value& v, const std::vector<std::string>& path, size_t i, const Pred& pred) {
  if (i == path.size()) {
    if (pred(v)) return true;
    if (v.is_array()) {
      for (const auto& e : v.get_array()) {
        if (pred(e)) return true;
      }
    }
    return false;
  }
  if (v.is_object()) {
    const boost::json::value* child = v.get_object().if_contains(path[i]);
    return child != nullptr && AnyAt(*child, path, i + 1, pred);
  }
  if (v.is_array()) {
    const auto& a = v.get_array();
    if (AllDigits(path[i])) {
      const size_t index = std::stoul(path[i]);
      if (index < a.size() && AnyAt(a[index], path, i + 1, pred)) return true;
    }
    for (const auto& e : a) {
      if (e.is_object() && AnyAt(e, path, i, pred)) return true;
    }
  }
  return false;
}

bool RunTest(const Filter::Node::Test& t, const boost::json::value& payload, const std::vector<std::string>& path) {
  switch (t.op) {
    case Op::kEq: return AnyAt(payload, path, 0, [&](const auto& v) { return JsonEquals(v, t.operand); });
    case Op::kNeq: return !AnyAt(payload, path, 0, [&](const auto& v) { return JsonEquals(v, t.operand); });
    case Op::kIn:
    case Op::kNin: {
      const bool any = AnyAt(payload, path, 0, [&](const auto& v) {
        for (const auto& o : t.operand.get_array()) {
          if (JsonEquals(v, o)) return true;
        }
        return false;
      });
      return t.op == Op::kIn ? any : !any;
    }
    case Op::kGt: return AnyAt(payload, path, 0, [&](const auto& v) { auto o = Order(v, t.operand); return o && *o > 0; });
    case Op::kGte: return AnyAt(payload, path, 0, [&](const auto& v) { auto o = Order(v, t.operand); return o && *o >= 0; });
    case Op::kLt: return AnyAt(payload, path, 0, [&](const auto& v) { auto o = Order(v, t.operand); return o && *o < 0; });
    case Op::kLte: return AnyAt(payload, path, 0, [&](const auto& v) { auto o = Order(v, t.operand); return o && *o <= 0; });
    case Op::kExist: {
      const bool exists = AnyAt(payload, path, 0, [](const auto&) { return true; });
      return exists == t.operand.get_bool();
    }
    case Op::kRegex:
      return AnyAt(payload, path, 0, [&](const auto& v) {
        if (!v.is_string()) return false;
        const auto s = v.get_string().subview();
        return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *t.regex);
      });
  }
  return false;
}

bool Evaluate(const Filter::Node& n, const boost::json::value& payload) {
  switch (n.kind) {
    case Filter::Node::Kind::kAnd:
      for (const auto& c : n.children) {
        if (!Evaluate(*c, payload)) return false;
      }
      return true;
    case Filter::Node::Kind::kOr:
      for (const auto& c : n.children) {
        if (Evaluate(*c, payload)) return true;
      }
      return false;
    case Filter::Node::Kind::kNot: return !Evaluate(*n.children.front(), payload);
    case Filter::Node::Kind::kPath:
      for (const auto& t : n.tests) {
        if (!RunTest(t, payload, n.path)) return false;
      }
      return true;
  }
  return false;
}

std::optional<Op> OperatorNamed(std::string_view name) {
  static constexpr std::pair<std::string_view, Op> kOps[] = {
      {"$eq", Op::kEq},   {"$neq", Op::kNeq}, {"$gt", Op::kGt},   {"$gte", Op::kGte},     {"$lt", Op::kLt},
      {"$lte", Op::kLte}, {"$in", Op::kIn},   {"$nin", Op::kNin}, {"$exist", Op::kExist}, {"$regex", Op::kRegex}};
  for (const auto& [n, op] : kOps) {
    if (n == name) return op;
  }
  return std::nullopt;
}

Result<std::unique_ptr<Filter::Node>> CompileCondition(const boost::json::value& v, const std::string& place);

Result<std::unique_ptr<Filter::Node>> CompileList(const boost::json::value& v, Filter::Node::Kind kind,
                                                  const std::string& place) {
  if (!v.is_array() || v.get_array().empty()) return Bad(place, "expects a non-empty array of conditions.");
  auto node = std::make_unique<Filter::Node>();
  node->kind = kind;
  const auto& a = v.get_array();
  for (size_t i = 0; i < a.size(); ++i) {
    ULAK_ASSIGN_OR_RETURN(auto child, CompileCondition(a[i], place + "[" + std::to_string(i) + "]"));
    node->children.push_back(std::move(child));
  }
  return node;
}

Result<std::unique_ptr<Filter::Node>> CompilePath(std::string_view key, const boost::json::value& v,
                                                  const std::string& place) {
  auto node = std::make_unique<Filter::Node>();
  node->kind = Filter::Node::Kind::kPath;
  if (key.size() > 256) return Bad(place, "a path may be at most 256 characters long.");
  size_t start = 0;
  for (;;) {
    const size_t dot = key.find('.', start);
    std::string_view segment = key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (segment.empty()) return Bad(place, "a path is dot-separated names, none of them empty.");
    node->path.emplace_back(segment);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  const bool operators = v.is_object() && !v.get_object().empty() && v.get_object().begin()->key().starts_with("$");
  if (!operators) {  // equality by value
    node->tests.push_back({Op::kEq, v, nullptr});
    return node;
  }
  for (const auto& [name, operand] : v.get_object()) {
    const std::string op_place = place + "." + std::string(name);
    std::optional<Op> op = OperatorNamed(std::string_view(name.data(), name.size()));
    if (!op) {
      if (!name.starts_with("$")) return Bad(op_place, "an object cannot mix operators with fields; use $eq for an object value.");
      return Bad(op_place, "unknown operator; use $eq, $neq, $gt, $gte, $lt, $lte, $in, $nin, $exist or $regex.");
    }
    Filter::Node::Test t{*op, operand, nullptr};
    switch (*op) {
      case Op::kIn:
      case Op::kNin:
        if (!operand.is_array()) return Bad(op_place, "expects an array of values.");
        break;
      case Op::kExist:
        if (!operand.is_bool()) return Bad(op_place, "expects true or false.");
        break;
      case Op::kGt:
      case Op::kGte:
      case Op::kLt:
      case Op::kLte:
        if (!IsNumber(operand) && !operand.is_string()) return Bad(op_place, "expects a number or a string.");
        break;
      case Op::kRegex: {
        if (!operand.is_string()) return Bad(op_place, "expects a regular expression (RE2 syntax) as a string.");
        const auto pattern = operand.get_string().subview();
        if (pattern.size() > 1000) return Bad(op_place, "a regular expression may be at most 1000 characters long.");
        RE2::Options options;
        options.set_log_errors(false);
        t.regex = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
        if (!t.regex->ok()) return Bad(op_place, "invalid regular expression: " + t.regex->error());
        break;
      }
      default: break;
    }
    node->tests.push_back(std::move(t));
  }
  return node;
}

Result<std::unique_ptr<Filter::Node>> CompileCondition(const boost::json::value& v, const std::string& place) {
  if (!v.is_object()) return Bad(place, "a condition must be a JSON object.");
  auto node = std::make_unique<Filter::Node>();
  node->kind = Filter::Node::Kind::kAnd;
  for (const auto& [key, child] : v.get_object()) {
    const std::string_view k(key.data(), key.size());
    const std::string child_place = place + "." + std::string(k);
    if (k == "$and" || k == "$or") {
      ULAK_ASSIGN_OR_RETURN(auto list, CompileList(child, k == "$and" ? Filter::Node::Kind::kAnd : Filter::Node::Kind::kOr,
                                                   child_place));
      node->children.push_back(std::move(list));
    } else if (k == "$not") {
      ULAK_ASSIGN_OR_RETURN(auto inner, CompileCondition(child, child_place));
      auto negation = std::make_unique<Filter::Node>();
      negation->kind = Filter::Node::Kind::kNot;
      negation->children.push_back(std::move(inner));
      node->children.push_back(std::move(negation));
    } else if (k.starts_with("$")) {
      return Bad(child_place, "unknown operator here; a condition's keys are paths, $and, $or or $not.");
    } else {
      ULAK_ASSIGN_OR_RETURN(auto path, CompilePath(k, child, child_place));
      node->children.push_back(std::move(path));
    }
  }
  return node;
}

}  // namespace

Filter::Filter() = default;
Filter::~Filter() = default;

Result<std::shared_ptr<const Filter>> Filter::Compile(const boost::json::value& spec, std::string_view field) {
  const std::string place(field);
  int nodes = 0;
  ULAK_RETURN_IF_ERROR(CheckSize(spec, place, 1, nodes));
  ULAK_ASSIGN_OR_RETURN(auto root, CompileCondition(spec, place));
  auto filter = std::make_shared<Filter>();
  filter->root_ = std::move(root);
  return std::shared_ptr<const Filter>(std::move(filter));
}

bool Filter::Matches(const boost::json::value& payload) const { return Evaluate(*root_, payload); }

}  // namespace ulak::shape
