#include "shape/json_number.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <vector>

namespace ulak::shape {
namespace {

// A decimal number as (digits without leading or trailing zeros) x 10^exponent; zero has no
// digits (and no sign: -0 and 0 are the same number here).
struct Decimal {
  bool negative = false;
  std::string digits;
  int64_t exponent = 0;
  bool operator==(const Decimal&) const = default;
};

// REQUIRES: `s` is a JSON number or to_chars' scientific output.
Decimal Normalize(std::string_view s) {
  Decimal d;
  size_t i = 0;
  if (i < s.size() && s[i] == '-') {
    d.negative = true;
    ++i;
  }
  int64_t fraction_digits = 0;
  bool in_fraction = false;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      in_fraction = true;
      continue;
    }
    if (d.digits.empty() && s[i] == '0') {  // leading zero
      if (in_fraction) ++fraction_digits;
      continue;
    }
    d.digits += s[i];
    if (in_fraction) ++fraction_digits;
  }
  int64_t exp = 0;
  if (i < s.size()) {
    ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    for (; i < s.size(); ++i) {
      if (exp < 1'000'000'000) exp = exp * 10 + (s[i] - '0');  // far beyond any double: no overflow
    }
    if (neg) exp = -exp;
  }
  d.exponent = exp - fraction_digits;
  while (!d.digits.empty() && d.digits.back() == '0') {
    d.digits.pop_back();
    ++d.exponent;
  }
  if (d.digits.empty()) {
    d.negative = false;
    d.exponent = 0;
  }
  return d;
}

// to_chars' shortest round-trip digits of `d` in scientific form, e.g. "8.99e+01".
std::string_view Scientific(double d, char (&buf)[64]) {
  auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  return std::string_view(buf, r.ptr - buf);
}

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

// Follows the parser through the document to name a number's path.
struct Frame {
  bool array;
  int64_t index;    // arrays: the current element
  std::string key;  // objects: the current member
};

class NumberHandler {
 public:
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  explicit NumberHandler(std::string_view root) : root_(root) {}

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_array_begin(boost::system::error_code&) {
    Value();
    frames_.push_back(Frame{true, -1, {}});
    return true;
  }
  bool on_array_end(std::size_t, boost::system::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_object_begin(boost::system::error_code&) {
    Value();
    frames_.push_back(Frame{false, 0, {}});
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    frames_.pop_back();
    return true;
  }
  bool on_string_part(boost::json::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(boost::json::string_view, std::size_t, boost::system::error_code&) {
    Value();
    return true;
  }
  bool on_key_part(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    return true;
  }
  bool on_key(boost::json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    frames_.back().key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_number_part(boost::json::string_view s, boost::system::error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t, boost::json::string_view, boost::system::error_code&) { return Integer(); }
  bool on_uint64(uint64_t, boost::json::string_view, boost::system::error_code&) { return Integer(); }
  bool on_double(double d, boost::json::string_view s, boost::system::error_code& ec) {
    Value();
    number_.append(s.data(), s.size());
    const Decimal written = Normalize(number_);
    if (!std::isfinite(d) || (d == 0 && !written.digits.empty())) {
      error_path_ = Path();
      error_text_ = number_.size() > 40 ? number_.substr(0, 40) + "..." : number_;
      ec = boost::json::error::exception;  // any error stops the parser
      return false;
    }
    char buf[64];
    if (!(Normalize(Scientific(d, buf)) == written)) digits_.Add(d, number_);
    number_.clear();
    return true;
  }
  bool on_bool(bool, boost::system::error_code&) {
    Value();
    return true;
  }
  bool on_null(boost::system::error_code&) {
    Value();
    return true;
  }
  bool on_comment_part(boost::json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(boost::json::string_view, boost::system::error_code&) { return true; }

  NumberDigits digits_;
  std::string error_path_;
  std::string error_text_;

 private:
  bool Integer() {
    Value();
    number_.clear();
    return true;
  }
  // A value starts: in an array it is the next element.
  void Value() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  std::string Path() const {
    std::string p(root_);
    for (const Frame& f : frames_) {
      if (f.array) {
        p += '[' + std::to_string(f.index) + ']';
      } else {
        if (!p.empty()) p += '.';
        p += f.key;
      }
    }
    return p;
  }

  std::string_view root_;
  std::vector<Frame> frames_;
  std::string key_;
  std::string number_;
};

void FindNonFinite(const boost::json::value& v, std::string& path, bool& found) {
  if (found) return;
  if (v.is_double()) {
    found = !std::isfinite(v.get_double());
  } else if (v.is_array()) {
    const size_t base = path.size();
    for (size_t i = 0; i < v.get_array().size() && !found; ++i) {
      path += '[' + std::to_string(i) + ']';
      FindNonFinite(v.get_array()[i], path, found);
      if (!found) path.resize(base);
    }
  } else if (v.is_object()) {
    const size_t base = path.size();
    for (const auto& [k, child] : v.get_object()) {
      if (!path.empty()) path += '.';
      path.append(k.data(), k.size());
      FindNonFinite(child, path, found);
      if (found) return;
      path.resize(base);
    }
  }
}

// The serializer's output: a string grown by doubling and written through a raw position
// (std::string's own push_back and append are not inlined, and dominated the profile).
struct Writer {
  std::string& s;
  size_t n;
  char* Room(size_t k) {
    if (n + k > s.size()) s.resize(std::max(s.size() * 2, n + k));
    return s.data() + n;
  }
  void Put(char c) {
    *Room(1) = c;
    ++n;
  }
  void Put(const char* p, size_t k) {
    std::memcpy(Room(k), p, k);
    n += k;
  }
  void Put(std::string_view v) { Put(v.data(), v.size()); }
};

// Whether any of the 8 bytes in `w` must be escaped (< 0x20, '"' or '\\'): SWAR, so that
// plain text is scanned a word at a time.
bool WordNeedsEscape(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHighs;
  return (below_space | has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\'))) != 0;
}

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void WriteString(Writer& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = s.data();
  const size_t n = s.size();
  out.Put('"');
  size_t start = 0;
  size_t i = 0;
  for (;;) {
    // Plain text a word at a time, then byte by byte up to what must be escaped.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (WordNeedsEscape(w)) break;
      i += 8;
    }
    const size_t limit = std::min(n, i + 8);
    while (i < limit && !NeedsEscape(static_cast<unsigned char>(p[i]))) ++i;
    if (i == n) break;
    if (i == limit) continue;
    const unsigned char c = static_cast<unsigned char>(p[i]);
    out.Put(p + start, i - start);
    start = ++i;
    switch (c) {
      case '"': out.Put("\\\"", 2); break;
      case '\\': out.Put("\\\\", 2); break;
      case '\b': out.Put("\\b", 2); break;
      case '\f': out.Put("\\f", 2); break;
      case '\n': out.Put("\\n", 2); break;
      case '\r': out.Put("\\r", 2); break;
      case '\t': out.Put("\\t", 2); break;
      default: {
        const char u[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out.Put(u, 6);
      }
    }
  }
  out.Put(p + start, n - start);
  out.Put('"');
}

template <typename T>
void WriteInteger(Writer& out, T n) {
  char* p = out.Room(24);
  out.n += static_cast<size_t>(std::to_chars(p, p + 24, n).ptr - p);
}

void WriteJsNumber(Writer& out, double d) {
  if (!std::isfinite(d)) {
    out.Put("null", 4);
    return;
  }
  if (d == 0) {
    out.Put('0');
    return;
  }
  char buf[64];
  std::string_view sci = Scientific(d, buf);  // [-]d[.ddd]e(+|-)XX
  if (sci[0] == '-') {
    out.Put('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  char digits[32];
  size_t k = 0;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits[k++] = c;
  }
  int exp10 = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exp10);
  const int n = exp10 + 1;  // value = 0.digits x 10^n
  const int ki = static_cast<int>(k);
  if (ki <= n && n <= 21) {
    out.Put(digits, k);
    std::memset(out.Room(static_cast<size_t>(n - ki)), '0', static_cast<size_t>(n - ki));
    out.n += static_cast<size_t>(n - ki);
  } else if (0 < n && n <= 21) {
    out.Put(digits, static_cast<size_t>(n));
    out.Put('.');
    out.Put(digits + n, k - static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out.Put("0.", 2);
    std::memset(out.Room(static_cast<size_t>(-n)), '0', static_cast<size_t>(-n));
    out.n += static_cast<size_t>(-n);
    out.Put(digits, k);
  } else {
    out.Put(digits[0]);
    if (k > 1) {
      out.Put('.');
      out.Put(digits + 1, k - 1);
    }
    out.Put('e');
    out.Put(exp10 >= 0 ? '+' : '-');
    WriteInteger(out, exp10 >= 0 ? exp10 : -exp10);
  }
}

void WriteJson(Writer& out, const boost::json::value& v, const NumberDigits* digits) {
  switch (v.kind()) {
    case boost::json::kind::null: out.Put("null", 4); return;
    case boost::json::kind::bool_:
      if (v.get_bool()) {
        out.Put("true", 4);
      } else {
        out.Put("false", 5);
      }
      return;
    case boost::json::kind::int64: WriteInteger(out, v.get_int64()); return;
    case boost::json::kind::uint64: WriteInteger(out, v.get_uint64()); return;
    case boost::json::kind::double_: {
      if (digits != nullptr) {
        if (const std::string* text = digits->Find(v.get_double())) {
          out.Put(*text);
          return;
        }
      }
      WriteJsNumber(out, v.get_double());
      return;
    }
    case boost::json::kind::string: WriteString(out, std::string_view(v.get_string().data(), v.get_string().size())); return;
    case boost::json::kind::array: {
      out.Put('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.Put(',');
        first = false;
        WriteJson(out, e, digits);
      }
      out.Put(']');
      return;
    }
    case boost::json::kind::object: {
      out.Put('{');
      bool first = true;
      for (const auto& [k, e] : v.get_object()) {
        if (!first) out.Put(',');
        first = false;
        WriteString(out, std::string_view(k.data(), k.size()));
        out.Put(':');
        WriteJson(out, e, digits);
      }
      out.Put('}');
      return;
    }
  }
}

}  // namespace

void NumberDigits::Add(double d, std::string_view text) { by_bits_.try_emplace(Bits(d), text); }

void NumberDigits::Merge(const NumberDigits& other) {
  for (const auto& [bits, text] : other.by_bits_) by_bits_.try_emplace(bits, text);
}

const std::string* NumberDigits::Find(double d) const {
  if (by_bits_.empty()) return nullptr;
  auto it = by_bits_.find(Bits(d));
  return it == by_bits_.end() ? nullptr : &it->second;
}

Result<NumberDigits> ScanNumbers(std::string_view text, std::string_view root_name) {
  boost::json::parse_options opts;
  opts.max_depth = 64;
  boost::json::basic_parser<NumberHandler> parser(opts, root_name);
  boost::system::error_code ec;
  parser.write_some(false, text.data(), text.size(), ec);
  NumberHandler& h = parser.handler();
  if (!h.error_text_.empty()) {
    if (h.error_path_.empty()) h.error_path_ = "(root)";
    return InvalidArgument(h.error_path_ + " is the number " + h.error_text_ +
                           ", outside the range of a double; send it as a string.")
        .WithField(h.error_path_);
  }
  if (ec) return Malformed("Malformed JSON: " + ec.message());
  return std::move(h.digits_);
}

Result<ParsedJson> ParseJsonKeepingDigits(std::string_view text, std::string_view root_name) {
  ParsedJson out;
  ULAK_ASSIGN_OR_RETURN(out.digits, ScanNumbers(text, root_name));
  boost::json::parse_options opts;
  opts.max_depth = 64;
  boost::system::error_code ec;
  out.value = boost::json::parse(text, ec, {}, opts);
  if (ec) return Malformed("Malformed JSON: " + ec.message());
  return out;
}

void KeepLargeIntegers(const boost::json::value& v, NumberDigits& digits) {
  if (v.is_uint64() && v.get_uint64() > static_cast<uint64_t>(INT64_MAX)) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
    digits.Add(static_cast<double>(v.get_uint64()), std::string_view(buf, r.ptr - buf));
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) KeepLargeIntegers(e, digits);
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.get_object()) KeepLargeIntegers(e, digits);
  }
}

std::string FindNonFiniteNumber(const boost::json::value& v, std::string_view root_name) {
  std::string path(root_name);
  bool found = false;
  FindNonFinite(v, path, found);
  if (!found) return "";
  return path.empty() ? std::string("(root)") : path;
}

void AppendJsNumber(std::string& out, double d) {
  Writer w{out, out.size()};
  WriteJsNumber(w, d);
  out.resize(w.n);
}

void AppendJson(std::string& out, const boost::json::value& v, const NumberDigits* digits) {
  Writer w{out, out.size()};
  WriteJson(w, v, digits);
  out.resize(w.n);
}

void AppendJsonString(std::string& out, std::string_view s) {
  Writer w{out, out.size()};
  WriteString(w, s);
  out.resize(w.n);
}

std::string SerializeJson(const boost::json::value& v, const NumberDigits* digits) {
  std::string out(256, '\0');
  Writer w{out, 0};
  WriteJson(w, v, digits);
  out.resize(w.n);
  return out;
}

}  // namespace ulak::shape
