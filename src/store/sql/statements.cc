#include "store/sql/statements.h"

#include <string>

#include "store/sql/rows.h"

namespace ulak::store::sql {
namespace {

std::string Select(const char* columns, const char* rest) { return std::string("SELECT ") + columns + rest; }

}  // namespace

const Sql kMigrationApplied("SELECT 1 FROM schema_migrations WHERE version = ?1");
const Sql kSchemaVersion("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
const Sql kGetSetting("SELECT value FROM settings WHERE name = ?1");
const Sql kInsertSettingIfAbsent("INSERT INTO settings(name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING");

const Sql kInsertOrganization("INSERT INTO organizations(id, name, created_at) VALUES (?1, ?2, ?3)");
const Sql kGetOrganization(Select(kOrganizationColumns, " FROM organizations WHERE id = ?1"));
const Sql kListOrganizations(Select(kOrganizationColumns, " FROM organizations WHERE id > ?1 ORDER BY id LIMIT ?2"));
const Sql kInsertApiKey(std::string("INSERT INTO api_keys(") + kApiKeyColumns + ") VALUES (?1, ?2, ?3, ?4, ?5)");
const Sql kListApiKeys(Select(kApiKeyColumns, " FROM api_keys WHERE organization_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3"));
const Sql kDeleteApiKey("DELETE FROM api_keys WHERE id = ?1 AND organization_id = ?2");
const Sql kFindApiKeyByHash(Select(kApiKeyColumns, " FROM api_keys WHERE key_hash = ?1"));

const Sql kGetWebhook(Select(kWebhookColumns,
    " FROM webhooks WHERE id = ?1 AND (?2 = '' OR organization_id = ?2) AND deleted_at IS NULL"));
const Sql kListWebhooks(Select(kWebhookColumns,
    " FROM webhooks WHERE organization_id = ?1 AND deleted_at IS NULL AND id > ?2 ORDER BY id LIMIT ?3"));
const Sql kListAllWebhooks(Select(kWebhookColumns,
    " FROM webhooks WHERE (?1 = '' OR organization_id = ?1) AND deleted_at IS NULL ORDER BY id"));
const Sql kListActiveWebhooks(Select(kWebhookColumns,
    " FROM webhooks WHERE organization_id = ?1 AND deleted_at IS NULL AND is_active = TRUE ORDER BY id"));
const Sql kDeleteWebhook(
    "UPDATE webhooks SET deleted_at = ?3, is_active = FALSE, updated_at = ?3 "
    "WHERE id = ?1 AND organization_id = ?2 AND deleted_at IS NULL");
const Sql kDisableWebhook(
    "UPDATE webhooks SET is_active = FALSE, disabled_reason = ?2, disabled_at = ?3, updated_at = ?3 "
    "WHERE id = ?1 AND deleted_at IS NULL AND is_active = TRUE");
const Sql kCancelOpenDeliveries(
    "UPDATE deliveries SET status = 'cancelled', updated_at = ?2 "
    "WHERE webhook_id = ?1 AND status IN ('pending', 'retrying')");
const Sql kCancelPendingDeliveries(
    "UPDATE deliveries SET status = 'cancelled' WHERE webhook_id = ?1 AND status IN ('pending', 'retrying')");

// ?8 / ?3: the compact de-duplication key (store/idempotency_key.h); the texts confirm a match.
const Sql kInsertEvent(
    "INSERT INTO events(id, organization_id, event_type, event_id, payload, deliveries, created_at, "
    "idempotency_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
const Sql kFindEventByEventId(
    Select(kEventColumns, " FROM events WHERE idempotency_key = ?3 AND organization_id = ?1 AND event_id = ?2"));
const Sql kGetEvent(Select(kEventColumns, " FROM events WHERE id = ?1 AND (?2 = '' OR organization_id = ?2)"));
const Sql kListPendingDeliveries(std::string(kPendingSelect) +
    "WHERE d.status IN ('pending', 'retrying') AND d.id > ?1 ORDER BY d.id LIMIT ?2");
// The row comparison walks deliveries_open_by_webhook_due (webhook_id, next_attempt_at, id).
const Sql kListDueDeliveriesForWebhook(std::string(kPendingSelect) +
    "WHERE d.webhook_id = ?1 AND d.status IN ('pending', 'retrying') AND (d.next_attempt_at, d.id) > (?2, ?3) "
    "ORDER BY d.next_attempt_at, d.id LIMIT ?4");
const Sql kGetDelivery(std::string(kPendingSelect) + "WHERE d.id = ?1 AND (?2 = '' OR d.organization_id = ?2)");
const Sql kRequeueDelivery(
    "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, updated_at = ?2, "
    "claimed_by = NULLIF(?3, ''), lease_until = ?4 WHERE id = ?1 AND status NOT IN ('pending', 'retrying')");
const Sql kDeliveryExists("SELECT 1 FROM deliveries WHERE id = ?1");
const Sql kListFailedDeliveries(std::string(kPendingSelect) +
    "WHERE d.webhook_id = ?1 AND d.status = 'failed' AND d.updated_at >= ?2 AND d.id > ?3 ORDER BY d.id LIMIT ?4");

const Sql kInsertJob(std::string("INSERT INTO jobs(") + kJobColumns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
const Sql kUpdateJob("UPDATE jobs SET status = ?2, total = ?3, done = ?4, error = ?5, updated_at = ?6 WHERE id = ?1");
const Sql kGetJob(Select(kJobColumns, " FROM jobs WHERE id = ?1 AND (?2 = '' OR organization_id = ?2)"));
const Sql kInsertDeadOutcome(std::string("INSERT INTO dead_outcomes(") + kDeadOutcomeColumns +
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (attempt_id) DO NOTHING");
const Sql kListDeadOutcomes(Select(kDeadOutcomeColumns, " FROM dead_outcomes ORDER BY created_at, attempt_id LIMIT ?1"));

const Sql kSetOrganizationRetention("UPDATE organizations SET retention_days = ?2 WHERE id = ?1");

const Sql kGetPortalGeneration("SELECT generation FROM portal_generations WHERE organization_id = ?1");
const Sql kInsertInbox(std::string("INSERT INTO inboxes(") + kInboxColumns + ") VALUES (?1, ?2, ?3, ?4, ?5)");
const Sql kGetInbox(Select(kInboxColumns, " FROM inboxes WHERE id = ?1 AND (?2 = '' OR organization_id = ?2)"));
const Sql kListInboxes(Select(kInboxColumns, " FROM inboxes WHERE organization_id = ?1 ORDER BY created_at DESC, id DESC"));
const Sql kUpdateInbox("UPDATE inboxes SET name = ?3, response_status = ?4 WHERE id = ?1 AND organization_id = ?2");
const Sql kDeleteInbox("DELETE FROM inboxes WHERE id = ?1 AND organization_id = ?2");
const Sql kInsertInboxRequest(std::string("INSERT INTO inbox_requests(") + kInboxRequestColumns +
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
// inbox_requests_by_inbox serves both the age cut and the count cut.
const Sql kTrimInboxRequests(
    "DELETE FROM inbox_requests WHERE inbox_id = ?1 AND (received_at < ?2 OR id NOT IN "
    "(SELECT id FROM inbox_requests WHERE inbox_id = ?1 ORDER BY id DESC LIMIT ?3))");
const Sql kListInboxRequests(Select(kInboxRequestColumns,
    " FROM inbox_requests WHERE inbox_id = ?1 AND received_at >= ?2 ORDER BY id DESC LIMIT ?3"));

}  // namespace ulak::store::sql
