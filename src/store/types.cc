#include "store/types.h"

namespace ulak::store {

std::string_view DeliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kRetrying: return "retrying";
    case DeliveryStatus::kSuccess: return "success";
    case DeliveryStatus::kFailed: return "failed";
    case DeliveryStatus::kCancelled: return "cancelled";
  }
  return "pending";
}

std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view s) {
  for (DeliveryStatus d : {DeliveryStatus::kPending, DeliveryStatus::kRetrying, DeliveryStatus::kSuccess,
                           DeliveryStatus::kFailed, DeliveryStatus::kCancelled}) {
    if (DeliveryStatusName(d) == s) return d;
  }
  return std::nullopt;
}

}  // namespace ulak::store
