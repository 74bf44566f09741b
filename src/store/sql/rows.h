// The rows both stores read and write, mapped once: column lists, the struct each row
// becomes (through RowReader) and the parameters each struct is written as (through
// ParamWriter). A column added to a table is added here, for both dialects at once.
#pragma once

#include <string>

#include "store/sql/dialect.h"
#include "store/sql/row_io.h"
#include "store/types.h"
#include "store/ui_types.h"

namespace ulak::store::sql {

// --- webhooks ---
// Every column ReadWebhook reads, in its order.
extern const char kWebhookColumns[];
// The columns WriteWebhookInsert writes (no COALESCE; health columns start empty), with
// the VALUES list ?1..?33 that matches them.
extern const Sql kWebhookInsert;
// Replaces every field but id, organization_id, created_at and last_triggered_at (the
// delivery engine owns it: a PATCH must not roll it back) and the health the engine
// records; ?1 id, ?2 organization_id, then WriteWebhookUpdate's 29 parameters.
extern const Sql kWebhookUpdate;
Webhook ReadWebhook(const RowReader& row);
// id .. ordered: the 33 parameters of kWebhookInsert.
void WriteWebhookInsert(ParamWriter& p, const Webhook& w);
// id, organization_id, then the fields kWebhookUpdate replaces (31 parameters).
void WriteWebhookUpdate(ParamWriter& p, const Webhook& w);

// --- events and deliveries ---
extern const char kEventColumns[];
Event ReadEvent(const RowReader& row);
// Deliveries joined with their events, in the shape the delivery engine sends; a WHERE
// clause follows.
extern const char kPendingSelect[];
PendingDelivery ReadPending(const RowReader& row);
// INSERT INTO deliveries: ?1..?10 from WriteDelivery.
extern const Sql kDeliveryInsert;
void WriteDelivery(ParamWriter& p, const Delivery& d);

// --- attempts ---
// INSERT INTO attempts that skips an id already stored: ?1..?19 from WriteAttempt. The
// dialects differ only in how they tell whether it inserted (see the stores).
extern const Sql kAttemptInsert;
void WriteAttempt(ParamWriter& p, const Attempt& a);
// Attempts (a) joined with their deliveries (d) and events (e), as ReadAttempt reads them;
// the body of a plain try is read back from its event.
extern const char kAttemptSelect[];
Attempt ReadAttempt(const RowReader& row);
// The WHERE clause of ListAttempts (paged: with the cursor) and GetAttemptStats, with a
// placeholder ?1..?count only for the filters set (PostgreSQL wants them dense); its text
// depends only on which filters are set. WriteAttemptFilter writes their values, in order.
std::string AttemptWhere(const AttemptFilter& f, bool paged, int* count);
void WriteAttemptFilter(ParamWriter& p, const AttemptFilter& f, bool paged);

// --- organizations, API keys, jobs, dead outcomes ---
extern const char kOrganizationColumns[];
Organization ReadOrganization(const RowReader& row);
extern const char kApiKeyColumns[];
ApiKey ReadApiKey(const RowReader& row);
extern const char kJobColumns[];
Job ReadJob(const RowReader& row);
extern const char kDeadOutcomeColumns[];
DeadOutcome ReadDeadOutcome(const RowReader& row);

// --- web UI: delivery buckets, inboxes and their requests ---
// A bucket row: start (ms), success, failed, retrying, average and p95 response time.
DeliveryBucket ReadDeliveryBucket(const RowReader& row);
extern const char kInboxColumns[];
Inbox ReadInbox(const RowReader& row);
extern const char kInboxRequestColumns[];
InboxRequest ReadInboxRequest(const RowReader& row);

}  // namespace ulak::store::sql
