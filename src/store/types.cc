#include "store/types.h"

namespace ulak::store {

std::string_view DeliveryStatusName(DeliveryStatus s) {
  switch (s) {
    case DeliveryStatus::kPending: return "pending";
    case DeliveryStatus::kRetrying: return "retrying";
    case DeliveryStatus::kSuccess: return "success";
    case DeliveryStatus::kFailed: return "failed";
    case DeliveryStatus::kCancelled: return "cancelled";
    case DeliveryStatus::kSkipped: return "skipped";
  }
  return "pending";
}

std::optional<DeliveryStatus> ParseDeliveryStatus(std::string_view s) {
  for (DeliveryStatus d : {DeliveryStatus::kPending, DeliveryStatus::kRetrying, DeliveryStatus::kSuccess,
                           DeliveryStatus::kFailed, DeliveryStatus::kCancelled, DeliveryStatus::kSkipped}) {
    if (DeliveryStatusName(d) == s) return d;
  }
  return std::nullopt;
}

std::string_view IncomingStatusName(IncomingStatus s) {
  switch (s) {
    case IncomingStatus::kAccepted: return "accepted";
    case IncomingStatus::kDuplicate: return "duplicate";
    case IncomingStatus::kRejected: return "rejected";
  }
  return "accepted";
}

std::optional<IncomingStatus> ParseIncomingStatus(std::string_view s) {
  for (IncomingStatus i : {IncomingStatus::kAccepted, IncomingStatus::kDuplicate, IncomingStatus::kRejected}) {
    if (IncomingStatusName(i) == s) return i;
  }
  return std::nullopt;
}

}  // namespace ulak::store
