// Reading deliveries joined with their events: the shape the delivery engine sends.
#pragma once

#include "store/sqlite/connection.h"
#include "store/types.h"

namespace ulak::store::sqlite {

// Deliveries joined with their events, in the shape the delivery engine sends.
inline constexpr char kPendingSelect[] =
    "SELECT d.id, d.event_id, d.webhook_id, d.organization_id, d.status, d.attempts, d.next_attempt_at, "
    "d.created_at, e.event_type, COALESCE(e.event_id, e.id), e.payload, e.created_at "
    "FROM deliveries d JOIN events e ON e.id = d.event_id ";

inline PendingDelivery ReadPending(const Statement& st) {
  PendingDelivery p;
  p.delivery.id = st.ColumnText(0);
  p.delivery.event_id = st.ColumnText(1);
  p.delivery.webhook_id = st.ColumnText(2);
  p.delivery.organization_id = st.ColumnText(3);
  p.delivery.status = ParseDeliveryStatus(st.ColumnText(4)).value_or(DeliveryStatus::kPending);
  p.delivery.attempts = static_cast<int>(st.ColumnInt(5));
  p.delivery.next_attempt_at = FromUnixMillis(st.ColumnInt(6));
  p.delivery.created_at = FromUnixMillis(st.ColumnInt(7));
  p.event_type = st.ColumnText(8);
  p.event_ref = st.ColumnText(9);
  p.payload = std::make_shared<const std::string>(st.ColumnText(10));
  p.event_created_at = FromUnixMillis(st.ColumnInt(11));
  return p;
}

}  // namespace ulak::store::sqlite
