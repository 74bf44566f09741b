// Reading deliveries joined with their events: the shape the delivery engine sends.
#pragma once

#include "store/postgres/connection.h"
#include "store/types.h"

namespace ulak::store::postgres {

// The LISTEN/NOTIFY channel on which nodes announce deliveries nobody has claimed yet.
inline constexpr char kWorkChannel[] = "ulak_work";

// Deliveries joined with their events, in the shape the delivery engine sends.
inline constexpr char kPendingSelect[] =
    "SELECT d.id, d.event_id, d.webhook_id, d.organization_id, d.status, d.attempts, d.next_attempt_at, "
    "d.created_at, e.event_type, COALESCE(e.event_id, e.id), e.payload, e.created_at "
    "FROM deliveries d JOIN events e ON e.id = d.event_id ";

inline PendingDelivery ReadPending(const PgResult& r, int row) {
  PendingDelivery p;
  p.delivery.id = r.Text(row, 0);
  p.delivery.event_id = r.Text(row, 1);
  p.delivery.webhook_id = r.Text(row, 2);
  p.delivery.organization_id = r.Text(row, 3);
  p.delivery.status = ParseDeliveryStatus(r.Text(row, 4)).value_or(DeliveryStatus::kPending);
  p.delivery.attempts = static_cast<int>(r.Int(row, 5));
  p.delivery.next_attempt_at = FromUnixMillis(r.Int(row, 6));
  p.delivery.created_at = FromUnixMillis(r.Int(row, 7));
  p.event_type = r.Text(row, 8);
  p.event_ref = r.Text(row, 9);
  p.payload = std::make_shared<const std::string>(r.Bytes(row, 10));
  p.event_created_at = FromUnixMillis(r.Int(row, 11));
  return p;
}

}  // namespace ulak::store::postgres
