#include "shape/fields.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <map>
#include <string>

namespace ulak::shape {

struct FieldSelection::Node {
  bool whole = false;        // keep the member as it is
  bool each_whole = false;   // "x[]": keep it whole if it is an array
  std::map<std::string, Node, std::less<>> members;   // "x.y": inside the object x
  std::map<std::string, Node, std::less<>> elements;  // "x[].y": inside each object of the array x
};

namespace {

constexpr size_t kMaxFields = 100;
constexpr size_t kMaxFieldLength = 200;

Status Bad(const std::string& place, std::string message) {
  return InvalidArgument(place + ": " + std::move(message)).WithField(place);
}

using Members = std::map<std::string, FieldSelection::Node, std::less<>>;
boost::json::object Select(const boost::json::object& data, const Members& members);

// The selection of one member's value, or nullopt to leave it out.
std::optional<boost::json::value> SelectValue(const boost::json::value& v, const FieldSelection::Node& n) {
  if (n.whole) return v;
  if (v.is_array() && (n.each_whole || !n.elements.empty())) {
    if (n.each_whole) return v;
    boost::json::array out;
    for (const auto& e : v.get_array()) {
      if (e.is_object()) out.push_back(Select(e.get_object(), n.elements));
    }
    return boost::json::value(std::move(out));
  }
  if (v.is_object() && !n.members.empty()) {
    boost::json::object selected = Select(v.get_object(), n.members);
    if (selected.empty()) return std::nullopt;  // nothing it names is there
    return boost::json::value(std::move(selected));
  }
  return std::nullopt;
}

boost::json::object Select(const boost::json::object& data, const Members& members) {
  boost::json::object out;
  for (const auto& [key, value] : data) {
    auto it = members.find(std::string_view(key.data(), key.size()));
    if (it == members.end()) continue;
    if (std::optional<boost::json::value> kept = SelectValue(value, it->second)) out.emplace(key, std::move(*kept));
  }
  return out;
}

}  // namespace

FieldSelection::FieldSelection() = default;
FieldSelection::~FieldSelection() = default;

Result<std::shared_ptr<const FieldSelection>> FieldSelection::Compile(const boost::json::value& spec,
                                                                      std::string_view field) {
  const std::string place(field);
  if (!spec.is_array() || spec.get_array().empty()) {
    return Bad(place, "expects a non-empty array of paths such as \"id\" or \"items[].name\".");
  }
  const auto& list = spec.get_array();
  if (list.size() > kMaxFields) return Bad(place, "may list at most 100 paths.");
  auto selection = std::make_shared<FieldSelection>();
  selection->root_ = std::make_unique<Node>();
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string item_place = place + "[" + std::to_string(i) + "]";
    if (!list[i].is_string()) return Bad(item_place, "a path must be a string.");
    const std::string_view path = list[i].get_string().subview();
    if (path.empty() || path.size() > kMaxFieldLength) return Bad(item_place, "a path has 1 to 200 characters.");
    Node* node = selection->root_.get();
    bool into_elements = false;  // the previous segment ended with "[]"
    size_t start = 0;
    for (;;) {
      const size_t dot = path.find('.', start);
      std::string_view segment = path.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      bool each = false;
      if (segment.ends_with("[]")) {
        each = true;
        segment.remove_suffix(2);
      }
      if (segment.empty() || segment.find_first_of("[]") != std::string_view::npos) {
        return Bad(item_place, "\"" + std::string(path) +
                                   "\" is not a path: dot-separated names, each optionally followed by [].");
      }
      auto& children = into_elements ? node->elements : node->members;
      node = &children.try_emplace(std::string(segment)).first->second;
      into_elements = each;
      if (dot == std::string_view::npos) {
        if (each) {
          node->each_whole = true;
        } else {
          node->whole = true;
        }
        break;
      }
      start = dot + 1;
    }
  }
  return std::shared_ptr<const FieldSelection>(std::move(selection));
}

boost::json::value FieldSelection::Apply(const boost::json::value& data) const {
  if (!data.is_object()) return boost::json::object();
  return Select(data.get_object(), root_->members);
}

}  // namespace ulak::shape
