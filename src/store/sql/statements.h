// The statements both stores run word for word, written once with ?N placeholders (see
// dialect.h: sqlite() as written, postgres() with $N). Each store binds them in its own way;
// the parameters are listed here. What a dialect says differently stays in its own files.
#pragma once

#include "store/sql/dialect.h"

namespace ulak::store::sql {

// --- migrations, settings ---
extern const Sql kMigrationApplied;  // ?1 version
extern const Sql kSchemaVersion;
extern const Sql kGetSetting;            // ?1 name
extern const Sql kInsertSettingIfAbsent;  // ?1 name, ?2 value

// --- organizations and API keys (kOrganizationColumns, kApiKeyColumns) ---
extern const Sql kInsertOrganization;  // ?1 id, ?2 name, ?3 created_at
extern const Sql kGetOrganization;     // ?1 id
extern const Sql kListOrganizations;   // ?1 after, ?2 limit
extern const Sql kInsertApiKey;        // ?1 id, ?2 organization_id, ?3 key_hash, ?4 prefix, ?5 created_at
extern const Sql kListApiKeys;         // ?1 organization_id, ?2 after, ?3 limit
extern const Sql kDeleteApiKey;        // ?1 id, ?2 organization_id
extern const Sql kFindApiKeyByHash;    // ?1 key_hash

// --- webhooks (kWebhookColumns) ---
extern const Sql kGetWebhook;           // ?1 id, ?2 organization_id ('' for any)
extern const Sql kListWebhooks;         // ?1 organization_id, ?2 after, ?3 limit
extern const Sql kListAllWebhooks;      // ?1 organization_id ('' for all)
extern const Sql kListActiveWebhooks;   // ?1 organization_id
extern const Sql kDeleteWebhook;        // ?1 id, ?2 organization_id, ?3 now
extern const Sql kDisableWebhook;       // ?1 id, ?2 reason, ?3 now
extern const Sql kCancelOpenDeliveries;  // ?1 webhook_id, ?2 now
extern const Sql kCancelPendingDeliveries;  // ?1 webhook_id

// --- events and deliveries (kEventColumns, kPendingSelect) ---
// The event row of a publish; PostgreSQL adds its ON CONFLICT ... RETURNING (see there).
extern const Sql kInsertEvent;  // ?1 id, ?2 organization_id, ?3 event_type, ?4 event_id, ?5 payload, ?6 deliveries, ?7 created_at
extern const Sql kFindEventByEventId;  // ?1 organization_id, ?2 event_id
extern const Sql kGetEvent;            // ?1 id, ?2 organization_id ('' for any)
extern const Sql kListPendingDeliveries;  // ?1 after, ?2 limit
extern const Sql kListDueDeliveriesForWebhook;  // ?1 webhook_id, ?2 from, ?3 after_id, ?4 limit
extern const Sql kGetDelivery;            // ?1 id, ?2 organization_id ('' for any)
extern const Sql kRequeueDelivery;        // ?1 id, ?2 now, ?3 claimed_by ('' for none), ?4 lease_until
extern const Sql kDeliveryExists;         // ?1 id
extern const Sql kListFailedDeliveries;   // ?1 webhook_id, ?2 since, ?3 after, ?4 limit

// --- jobs (kJobColumns), dead outcomes (kDeadOutcomeColumns) ---
extern const Sql kInsertJob;  // ?1..?10 in kJobColumns order
extern const Sql kUpdateJob;  // ?1 id, ?2 status, ?3 total, ?4 done, ?5 error, ?6 updated_at
extern const Sql kGetJob;     // ?1 id, ?2 organization_id ('' for any)
extern const Sql kInsertDeadOutcome;  // ?1..?10 in kDeadOutcomeColumns order; once per attempt id
extern const Sql kListDeadOutcomes;   // ?1 limit

// --- retention ---
extern const Sql kSetOrganizationRetention;  // ?1 id, ?2 retention_days (NULL: the server's)

// --- web UI: portal generations, inboxes (kInboxColumns) and their requests ---
extern const Sql kGetPortalGeneration;  // ?1 organization_id
extern const Sql kInsertInbox;          // ?1..?5 in kInboxColumns order
extern const Sql kGetInbox;             // ?1 id, ?2 organization_id ('' for any)
extern const Sql kListInboxes;          // ?1 organization_id
extern const Sql kUpdateInbox;          // ?1 id, ?2 organization_id, ?3 name, ?4 response_status
extern const Sql kDeleteInbox;          // ?1 id, ?2 organization_id
extern const Sql kInsertInboxRequest;   // ?1..?9 in kInboxRequestColumns order
// Keeps the inbox's requests received at or after ?2 and only its ?3 newest (?1 inbox_id).
extern const Sql kTrimInboxRequests;
extern const Sql kListInboxRequests;  // ?1 inbox_id, ?2 since, ?3 limit

}  // namespace ulak::store::sql
