#include "store/incoming_body.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ulak::store {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint64_t kEnd = 3;

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

bool GetVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in.front());
    in.remove_prefix(1);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// How many bytes a and b have in common from their starts. Compares 64-byte blocks with
// memcmp first (vectorized), then byte by byte: bodies are kilobytes that mostly match.
size_t CommonPrefix(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  constexpr size_t kBlock = 64;
  size_t i = 0;
  while (i + kBlock <= n && std::memcmp(a.data() + i, b.data() + i, kBlock) == 0) i += kBlock;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

void PutInsertion(std::string& out, std::string_view ws) {
  const size_t spaces = ws.find_first_not_of(' ', ws.front() == '\n' ? 1 : 0);
  if (spaces == std::string_view::npos) {  // "\n" + k spaces, or k spaces
    if (ws.front() == '\n') {
      PutVarint(out, (static_cast<uint64_t>(ws.size() - 1) << 2) | 1);
    } else {
      PutVarint(out, (static_cast<uint64_t>(ws.size()) << 2) | 2);
    }
    return;
  }
  PutVarint(out, static_cast<uint64_t>(ws.size()) << 2);
  out += ws;
}

// Where ReplayBodyDelta puts the body's pieces: a string being built...
struct BodyBuilder {
  std::string out;
  bool Append(std::string_view piece) {
    out.append(piece);
    return true;
  }
  bool AppendSpaces(uint64_t n) {
    out.append(n, ' ');
    return true;
  }
};

// ... or the expected body, compared piece by piece (false at the first difference).
struct BodyMatcher {
  std::string_view rest;
  bool Append(std::string_view piece) {
    if (rest.substr(0, piece.size()) != piece) return false;
    rest.remove_prefix(piece.size());
    return true;
  }
  bool AppendSpaces(uint64_t n) {
    if (rest.size() < n || rest.find_first_not_of(' ') < n) return false;
    rest.remove_prefix(n);
    return true;
  }
  bool Done() const { return rest.empty(); }
};

// Walks the delta (format in incoming_body.h), handing the body's pieces to sink in order.
// False when the delta is damaged or the sink refuses a piece.
template <typename Sink>
bool ReplayBodyDelta(std::string_view delta, std::string_view payload, Sink& sink) {
  if (delta.empty() || static_cast<uint8_t>(delta.front()) != kVersion) return false;
  delta.remove_prefix(1);
  uint64_t at = 0;
  if (!GetVarint(delta, at) || at > payload.size()) return false;
  for (;;) {
    uint64_t copy = 0, tag = 0;
    if (!GetVarint(delta, copy) || copy > payload.size() - at || !GetVarint(delta, tag)) return false;
    if (!sink.Append(payload.substr(at, copy))) return false;
    at += copy;
    if (tag == kEnd) break;
    const uint64_t n = tag >> 2;
    switch (tag & 3) {
      case 1:
        if (!sink.Append("\n") || !sink.AppendSpaces(n)) return false;
        break;
      case 2:
        if (!sink.AppendSpaces(n)) return false;
        break;
      case 3:
        return false;
      default:
        if (n > delta.size() || !sink.Append(delta.substr(0, n))) return false;
        delta.remove_prefix(n);
        break;
    }
  }
  return delta.empty();
}

}  // namespace

std::optional<std::string> EncodeBodyDelta(std::string_view body, std::string_view payload) {
  // The payload is {"event":…,"timestamp":…,"organization_id":…,"data":DATA,…}: `,"data":`
  // cannot occur inside a JSON string (its quote would be escaped), so the first one is it.
  static constexpr std::string_view kData = R"(,"data":)";
  const size_t found = payload.find(kData);
  if (found == std::string_view::npos || body.empty()) return std::nullopt;
  const size_t offset = found + kData.size();
  std::string out;
  out.reserve(32);
  out += static_cast<char>(kVersion);
  PutVarint(out, offset);
  size_t i = 0, j = offset, copy = 0;
  while (i < body.size()) {
    const size_t same = CommonPrefix(body.substr(i), payload.substr(std::min(j, payload.size())));
    if (same > 0) {
      i += same, j += same, copy += same;
      continue;
    }
    if (!IsSpace(body[i])) return std::nullopt;
    size_t end = i;
    while (end < body.size() && IsSpace(body[end])) ++end;
    PutVarint(out, copy);
    PutInsertion(out, body.substr(i, end - i));
    copy = 0;
    i = end;
  }
  PutVarint(out, copy);
  PutVarint(out, kEnd);
  // Smaller than the body, or not worth it; and checked by rebuilding it (compared piece by
  // piece against the body, without building a copy).
  if (out.size() >= body.size()) return std::nullopt;
  BodyMatcher matcher{body};
  if (!ReplayBodyDelta(out, payload, matcher) || !matcher.Done()) return std::nullopt;
  return out;
}

Result<std::string> ApplyBodyDelta(std::string_view delta, std::string_view payload) {
  BodyBuilder builder;
  if (!ReplayBodyDelta(delta, payload, builder)) {
    return Internal("An incoming request's stored body does not match its event.");
  }
  return std::move(builder.out);
}

}  // namespace ulak::store
