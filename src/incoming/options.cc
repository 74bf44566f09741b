// ParseSourceOptions / SourceOptionsToJson: the JSON field names are SourceOptions' member
// names, except root_certificates (root_certificates_pem in the struct).
#include <algorithm>
#include <array>
#include <boost/json/value.hpp>

#include "crypto/hash.h"
#include "crypto/x509.h"
#include "incoming/apple_root_ca.h"
#include "incoming/verifier.h"

namespace ulak::incoming {
namespace {

constexpr int64_t kMaxToleranceS = 7 * 24 * 3600;
constexpr size_t kMaxHeaderNameBytes = 128;
constexpr size_t kMaxPrefixBytes = 64;
constexpr size_t kMaxRootCertificates = 10;
constexpr size_t kMaxBundleIdBytes = 255;

// Which options each provider reads. An option meant for another provider is refused
// rather than ignored, so a mistyped configuration fails at create time, not at delivery.
constexpr unsigned Bit(Provider p) { return 1u << static_cast<unsigned>(p); }
struct OptionUse {
  std::string_view key;
  unsigned providers;  // Bit(provider) for each provider that reads the option
};
constexpr std::array<OptionUse, 12> kOptions = {{
    {"tolerance_s", Bit(Provider::kStripe) | Bit(Provider::kStandard)},
    {"signature_header", Bit(Provider::kHmac)},
    {"algorithm", Bit(Provider::kHmac)},
    {"encoding", Bit(Provider::kHmac)},
    {"prefix", Bit(Provider::kHmac)},
    {"id_header", Bit(Provider::kHmac) | Bit(Provider::kHeader)},
    {"type_header", Bit(Provider::kHmac) | Bit(Provider::kHeader)},
    {"secret_header", Bit(Provider::kHeader)},
    {"root_certificates", Bit(Provider::kApple)},
    {"bundle_id", Bit(Provider::kApple)},
    {"environment", Bit(Provider::kApple)},
    {"app_apple_id", Bit(Provider::kApple)},
}};

Status OptionError(std::string_view key, std::string_view what) {
  std::string field = "options." + std::string(key);
  return InvalidArgument(field + " " + std::string(what)).WithField(field);
}

// RFC 9110 token characters: what a header name may contain.
bool IsHeaderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxHeaderNameBytes) return false;
  constexpr std::string_view kTcharPunct = "!#$%&'*+-.^_`|~";
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kTcharPunct.find(c) != std::string_view::npos;
  });
}

bool IsVisibleAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Result<std::string> StringOption(std::string_view key, const boost::json::value& value) {
  if (!value.is_string()) return OptionError(key, "must be a string");
  return std::string(value.get_string());
}

Result<std::string> HeaderOption(std::string_view key, const boost::json::value& value) {
  ULAK_ASSIGN_OR_RETURN(std::string name, StringOption(key, value));
  if (!IsHeaderName(name)) return OptionError(key, "must be an HTTP header name");
  return name;
}

size_t CountOccurrences(std::string_view text, std::string_view needle) {
  size_t count = 0;
  for (size_t pos = text.find(needle); pos != std::string_view::npos;
       pos = text.find(needle, pos + needle.size())) {
    ++count;
  }
  return count;
}

Status ParseOne(std::string_view key, const boost::json::value& value, SourceOptions& out) {
  if (key == "tolerance_s") {
    // Integers too large for int64 parse as uint64: out of range either way.
    if (!value.is_int64() && !value.is_uint64()) return OptionError(key, "must be an integer");
    const int64_t t = value.is_int64() ? value.get_int64() : -1;
    if (t < 1 || t > kMaxToleranceS) return OptionError(key, "must be between 1 and 604800");
    out.tolerance_s = t;
  } else if (key == "signature_header") {
    ULAK_ASSIGN_OR_RETURN(out.signature_header, HeaderOption(key, value));
  } else if (key == "algorithm") {
    ULAK_ASSIGN_OR_RETURN(std::string name, StringOption(key, value));
    if (name == "sha256") {
      out.algorithm = crypto::HashAlgorithm::kSha256;
    } else if (name == "sha512") {
      out.algorithm = crypto::HashAlgorithm::kSha512;
    } else if (name == "sha1") {
      out.algorithm = crypto::HashAlgorithm::kSha1;
    } else {
      return OptionError(key, "must be one of sha256, sha512, sha1");
    }
  } else if (key == "encoding") {
    ULAK_ASSIGN_OR_RETURN(std::string name, StringOption(key, value));
    if (name == "hex") {
      out.encoding = SourceOptions::Encoding::kHex;
    } else if (name == "base64") {
      out.encoding = SourceOptions::Encoding::kBase64;
    } else {
      return OptionError(key, "must be hex or base64");
    }
  } else if (key == "prefix") {
    ULAK_ASSIGN_OR_RETURN(out.prefix, StringOption(key, value));
    if (out.prefix.size() > kMaxPrefixBytes || !IsVisibleAscii(out.prefix)) {
      return OptionError(key, "must be at most 64 visible ASCII characters");
    }
  } else if (key == "id_header") {
    ULAK_ASSIGN_OR_RETURN(out.id_header, HeaderOption(key, value));
  } else if (key == "type_header") {
    ULAK_ASSIGN_OR_RETURN(out.type_header, HeaderOption(key, value));
  } else if (key == "secret_header") {
    ULAK_ASSIGN_OR_RETURN(out.secret_header, HeaderOption(key, value));
  } else if (key == "root_certificates") {
    if (!value.is_array() || value.get_array().empty() ||
        value.get_array().size() > kMaxRootCertificates) {
      return OptionError(key, "must be an array of 1 to 10 PEM certificates");
    }
    out.root_certificates_pem.clear();
    for (const boost::json::value& entry : value.get_array()) {
      if (!entry.is_string()) return OptionError(key, "must hold PEM strings");
      const std::string_view pem = entry.get_string();
      // One certificate per entry: a second block would be silently ignored otherwise.
      if (CountOccurrences(pem, "-----BEGIN CERTIFICATE-----") != 1 ||
          !crypto::Certificate::FromPem(pem).ok()) {
        return OptionError(key, "must hold exactly one PEM certificate per entry");
      }
      out.root_certificates_pem.emplace_back(pem);
    }
  } else if (key == "bundle_id") {
    ULAK_ASSIGN_OR_RETURN(out.bundle_id, StringOption(key, value));
    if (out.bundle_id.empty() || out.bundle_id.size() > kMaxBundleIdBytes ||
        !IsVisibleAscii(out.bundle_id)) {
      return OptionError(key, "must be a non-empty bundle identifier");
    }
  } else if (key == "environment") {
    ULAK_ASSIGN_OR_RETURN(out.environment, StringOption(key, value));
    if (out.environment != "Production" && out.environment != "Sandbox") {
      return OptionError(key, "must be Production or Sandbox");
    }
  } else if (key == "app_apple_id") {
    if (!value.is_int64() || value.get_int64() <= 0) {
      return OptionError(key, "must be a positive integer");
    }
    out.app_apple_id = value.get_int64();
  }
  return Status::Ok();
}

}  // namespace

Result<SourceOptions> ParseSourceOptions(Provider provider, const boost::json::object& options) {
  SourceOptions out;
  for (const auto& entry : options) {
    const std::string_view key = entry.key();
    const auto use = std::find_if(kOptions.begin(), kOptions.end(),
                                  [&](const OptionUse& u) { return u.key == key; });
    // Keys are echoed back, but cut short: they come from the caller, not from a secret.
    const std::string_view shown = key.substr(0, 64);
    if (use == kOptions.end()) return OptionError(shown, "is not a known option");
    if ((use->providers & Bit(provider)) == 0) {
      return OptionError(shown,
                         "does not apply to provider " + std::string(ProviderName(provider)));
    }
    ULAK_RETURN_IF_ERROR(ParseOne(key, entry.value(), out));
  }
  if (provider == Provider::kHmac && out.signature_header.empty()) {
    return OptionError("signature_header", "is required for provider hmac");
  }
  if (provider == Provider::kApple) {
    if (out.bundle_id.empty()) return OptionError("bundle_id", "is required for provider apple");
    if (out.root_certificates_pem.empty()) {
      out.root_certificates_pem.emplace_back(kAppleRootCaG3Pem);
    }
  }
  return out;
}

boost::json::object SourceOptionsToJson(Provider provider, const SourceOptions& options) {
  boost::json::object out;
  switch (provider) {
    case Provider::kStripe:
    case Provider::kStandard:
      out["tolerance_s"] = options.tolerance_s;
      break;
    case Provider::kGithub:
    case Provider::kShopify:
      break;
    case Provider::kHmac:
      out["signature_header"] = options.signature_header;
      out["algorithm"] = options.algorithm == crypto::HashAlgorithm::kSha512 ? "sha512"
                         : options.algorithm == crypto::HashAlgorithm::kSha1 ? "sha1"
                                                                             : "sha256";
      out["encoding"] = options.encoding == SourceOptions::Encoding::kHex ? "hex" : "base64";
      if (!options.prefix.empty()) out["prefix"] = options.prefix;
      [[fallthrough]];
    case Provider::kHeader:
      if (provider == Provider::kHeader) out["secret_header"] = options.secret_header;
      if (!options.id_header.empty()) out["id_header"] = options.id_header;
      if (!options.type_header.empty()) out["type_header"] = options.type_header;
      break;
    case Provider::kApple: {
      // The default root is implied by its absence, which keeps GET responses short.
      const bool default_roots = options.root_certificates_pem.size() == 1 &&
                                 options.root_certificates_pem[0] == kAppleRootCaG3Pem;
      if (!default_roots && !options.root_certificates_pem.empty()) {
        boost::json::array roots;
        for (const std::string& pem : options.root_certificates_pem) roots.emplace_back(pem);
        out["root_certificates"] = std::move(roots);
      }
      out["bundle_id"] = options.bundle_id;
      if (!options.environment.empty()) out["environment"] = options.environment;
      if (options.app_apple_id) out["app_apple_id"] = *options.app_apple_id;
      break;
    }
  }
  return out;
}

}  // namespace ulak::incoming
