// The CRM templates against seed 001's examples ("Popüler CRM Entegrasyonları") for seed 001's
// example order, compared after JSON parsing; upserts; parameter validation.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "shape/templates/template.h"

namespace ulak::shape {
namespace {

namespace json = boost::json;

TemplateConfig Config(const std::string& template_json) {
  Result<TemplateConfig> c = ParseTemplate(json::parse(template_json));
  EXPECT_TRUE(c.ok()) << c.status().message();
  return c.ok() ? *c : TemplateConfig{};
}

TemplateRequest Render(const std::string& template_json, const std::string& base,
                       json::object event = SeedExampleOrderEvent()) {
  Result<TemplateRequest> r = RenderTemplate(Config(template_json), base, event);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : TemplateRequest{};
}

// Serialized and parsed again: what a receiver sees.
json::value Wire(const json::value& body) { return json::parse(json::serialize(body)); }

TEST(Templates, SalesforceMatchesSeed001Example) {
  TemplateRequest r = Render(R"({"name": "salesforce", "params": {"status_map": {"pending": "Pending"}}})",
                             "https://acme.my.salesforce.com");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://acme.my.salesforce.com/services/data/v58.0/sobjects/Order__c/");
  EXPECT_EQ(r.credential_header, "Authorization");
  EXPECT_EQ(r.credential_prefix, "Bearer ");
  EXPECT_EQ(Wire(r.body), json::parse(R"({"Name": "ORD-20240102-1234", "Amount__c": 179.80,
      "Status__c": "Pending", "Customer_Name__c": "Ahmet Yılmaz"})"));
}

TEST(Templates, HubSpotMatchesSeed001ExampleWithAmountAsTwoDecimalString) {
  TemplateRequest r = Render(R"({"name": "hubspot"})", "https://api.hubapi.com");
  EXPECT_EQ(r.url, "https://api.hubapi.com/crm/v3/objects/deals");
  EXPECT_EQ(r.credential_prefix, "Bearer ");
  const json::value body = Wire(r.body);
  EXPECT_EQ(body, json::parse(R"({"properties": {"dealname": "ORD-20240102-1234", "amount": "179.80",
      "dealstage": "appointmentscheduled"}})"));
  EXPECT_EQ(body.at("properties").at("amount").as_string(), "179.80");
}

TEST(Templates, ZohoMatchesSeed001Example) {
  TemplateRequest r = Render(R"({"name": "zoho", "params": {}})", "https://www.zohoapis.com/");
  EXPECT_EQ(r.url, "https://www.zohoapis.com/crm/v3/Deals");
  EXPECT_EQ(r.credential_prefix, "Zoho-oauthtoken ");
  EXPECT_EQ(Wire(r.body), json::parse(R"({"data": [{"Deal_Name": "ORD-20240102-1234", "Amount": 179.80,
      "Stage": "Qualification"}]})"));
}

TEST(Templates, N8nSendsSeed000BodyWithSecretHeader) {
  TemplateRequest r = Render(R"({"name": "n8n", "params": {"secret": "s3cret"}})", "http://n8n.local/webhook/abc");
  EXPECT_EQ(r.url, "http://n8n.local/webhook/abc");
  EXPECT_EQ(r.credential_header, "X-Webhook-Secret");
  EXPECT_EQ(r.credential_prefix, "");
  json::object expected;
  const json::object event = SeedExampleOrderEvent();
  expected["event"] = event.at("event");
  expected["timestamp"] = event.at("timestamp");
  expected["data"] = event.at("data");
  EXPECT_EQ(Wire(r.body), json::value(expected));
}

TEST(Templates, CustomSendsUlakPayload) {
  TemplateRequest r = Render(R"({"name": "custom"})", "https://x.example/hook");
  EXPECT_EQ(r.url, "https://x.example/hook");
  EXPECT_EQ(Wire(r.body), json::value(SeedExampleOrderEvent()));
  EXPECT_TRUE(r.credential_header.empty());
}

TEST(Templates, UnmappedSalesforceStatusIsSentAsItIs) {
  json::object event = SeedExampleOrderEvent();
  event["data"].as_object()["status"] = "preparing";
  TemplateRequest r = Render(R"({"name": "salesforce", "params": {"status_map": {"pending": "Pending"}}})",
                             "https://acme.my.salesforce.com", event);
  EXPECT_EQ(r.body.at("Status__c"), json::value("preparing"));
}

TEST(Templates, StageMapAndFieldMapAndSalesforceSettings) {
  json::object event = SeedExampleOrderEvent();
  event["data"].as_object()["status"] = "served";
  event["data"].as_object()["customer"] = json::object{{"full_name", "Ayşe"}};
  TemplateRequest hub = Render(R"({"name": "hubspot", "params": {"stage_map": {"served": "closedwon"}}})",
                               "https://api.hubapi.com", event);
  EXPECT_EQ(hub.body.at("properties").at("dealstage"), json::value("closedwon"));
  TemplateRequest sf = Render(R"({"name": "salesforce", "params": {"api_version": "v60.0", "sobject": "Sale__c",
      "field_map": {"customer_name": "customer.full_name", "order_number": "id"}}})",
                              "https://acme.my.salesforce.com", event);
  EXPECT_EQ(sf.url, "https://acme.my.salesforce.com/services/data/v60.0/sobjects/Sale__c/");
  EXPECT_EQ(sf.body.at("Customer_Name__c"), json::value("Ayşe"));
  EXPECT_EQ(sf.body.at("Name"), json::value("order-uuid"));
}

TEST(Templates, SalesforceUpsertPatchesByExternalId) {
  TemplateRequest r = Render(R"({"name": "salesforce", "params": {"upsert": true}})", "https://acme.my.salesforce.com");
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.url, "https://acme.my.salesforce.com/services/data/v58.0/sobjects/Order__c/Order_Number__c/"
                   "ORD-20240102-1234");
  EXPECT_FALSE(r.body.as_object().contains("Order_Number__c"));
  EXPECT_EQ(r.body.at("Name"), json::value("ORD-20240102-1234"));
}

TEST(Templates, SalesforceUpsertEscapesTheExternalIdInThePath) {
  json::object event = SeedExampleOrderEvent();
  event["data"].as_object()["order_number"] = "A/B ?1";
  TemplateRequest r = Render(R"({"name": "salesforce", "params": {"upsert": true, "external_id_field": "Ext__c"}})",
                             "https://acme.my.salesforce.com", event);
  EXPECT_EQ(r.url, "https://acme.my.salesforce.com/services/data/v58.0/sobjects/Order__c/Ext__c/A%2FB%20%3F1");
}

TEST(Templates, HubSpotUpsertUsesBatchUpsert) {
  TemplateRequest r = Render(R"({"name": "hubspot", "params": {"upsert": true, "external_id_field": "order_no"}})",
                             "https://api.hubapi.com");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "https://api.hubapi.com/crm/v3/objects/deals/batch/upsert");
  EXPECT_EQ(Wire(r.body), json::parse(R"({"inputs": [{"idProperty": "order_no", "id": "ORD-20240102-1234",
      "properties": {"dealname": "ORD-20240102-1234", "amount": "179.80", "dealstage": "appointmentscheduled"}}]})"));
}

TEST(Templates, ZohoUpsertChecksDuplicatesByDealName) {
  TemplateRequest r = Render(R"({"name": "zoho", "params": {"upsert": true}})", "https://www.zohoapis.eu");
  EXPECT_EQ(r.url, "https://www.zohoapis.eu/crm/v3/Deals/upsert");
  EXPECT_EQ(Wire(r.body), json::parse(R"({"data": [{"Deal_Name": "ORD-20240102-1234", "Amount": 179.80,
      "Stage": "Qualification"}], "duplicate_check_fields": ["Deal_Name"]})"));
}

TEST(Templates, UpsertWithoutOrderNumberFails) {
  json::object event = SeedExampleOrderEvent();
  event["data"].as_object().erase("order_number");
  Result<TemplateRequest> r = RenderTemplate(Config(R"({"name": "zoho", "params": {"upsert": true}})"),
                                             "https://www.zohoapis.com", event);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("order number"), std::string::npos);
}

std::string FieldOf(const std::string& template_json) {
  Result<TemplateConfig> c = ParseTemplate(json::parse(template_json));
  if (c.ok()) return "(accepted)";
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  return c.status().field();
}

TEST(Templates, BadInputNamesTheField) {
  EXPECT_EQ(FieldOf(R"({"name": "pipedrive"})"), "template.name");
  EXPECT_EQ(FieldOf(R"({"params": {}})"), "template.name");
  EXPECT_EQ(FieldOf(R"("salesforce")"), "template");
  EXPECT_EQ(FieldOf(R"({"name": "salesforce", "params": {"status_map": "Pending"}})"), "template.params.status_map");
  EXPECT_EQ(FieldOf(R"({"name": "salesforce", "params": {"colour": "red"}})"), "template.params.colour");
  EXPECT_EQ(FieldOf(R"({"name": "salesforce", "params": {"upsert": "yes"}})"), "template.params.upsert");
  EXPECT_EQ(FieldOf(R"({"name": "salesforce", "params": {"sobject": "Order__c/../x"}})"), "template.params.sobject");
  EXPECT_EQ(FieldOf(R"({"name": "salesforce", "params": {"field_map": {"colour": "x"}}})"),
            "template.params.field_map");
  EXPECT_EQ(FieldOf(R"({"name": "hubspot", "params": [1]})"), "template.params");
  EXPECT_EQ(FieldOf(R"({"name": "hubspot", "extra": 1})"), "template.extra");
  EXPECT_EQ(FieldOf(R"({"name": "hubspot", "params": {"upsert": true}})"), "(accepted)");
}

std::string AuthFieldOf(const std::string& template_json) {
  const json::value v = json::parse(template_json);
  const TemplateSpec* spec = FindTemplate(std::string_view(v.at("name").as_string()));
  Result<TemplateAuth> a = ParseTemplateAuth(*spec, v.as_object());
  return a.ok() ? std::string(AuthKindName(a->kind)) : a.status().field();
}

TEST(Templates, AuthKindsAndRefusals) {
  EXPECT_EQ(AuthFieldOf(R"({"name": "salesforce", "auth": {"access_token": "t"}})"), "access_token");
  EXPECT_EQ(AuthFieldOf(R"({"name": "salesforce", "auth": {"refresh_token": "r", "client_id": "i",
      "client_secret": "s"}})"), "oauth2");
  EXPECT_EQ(AuthFieldOf(R"({"name": "salesforce"})"), "none");
  EXPECT_EQ(AuthFieldOf(R"({"name": "n8n", "params": {"secret": "x"}})"), "secret");
  EXPECT_EQ(AuthFieldOf(R"({"name": "salesforce", "auth": {"refresh_token": "r", "client_id": "i"}})"),
            "template.auth.client_secret");
  EXPECT_EQ(AuthFieldOf(R"({"name": "salesforce", "auth": {"password": "p"}})"), "template.auth.password");
  EXPECT_EQ(AuthFieldOf(R"({"name": "custom", "auth": {"access_token": "t"}})"), "template.auth");
  EXPECT_EQ(AuthFieldOf(R"({"name": "n8n", "auth": {"access_token": "t"}})"), "template.auth");
  EXPECT_EQ(AuthFieldOf(R"({"name": "zoho", "auth": {"refresh_token": "r", "client_id": "i", "client_secret": "s",
      "token_url": "ftp://x"}})"), "template.auth.token_url");
}

TEST(Templates, StoredFormsRoundTripWithoutSecrets) {
  const json::object input = json::parse(R"({"name": "n8n", "params": {"secret": "hush"}})").as_object();
  const std::string stored = TemplateToJson(input);
  EXPECT_EQ(stored.find("hush"), std::string::npos);
  Result<TemplateConfig> back = TemplateConfigFromJson(stored);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->name, "n8n");
  Result<TemplateAuth> auth = ParseTemplateAuth(*FindTemplate("n8n"), input);
  ASSERT_TRUE(auth.ok());
  Result<TemplateAuth> auth_back = TemplateAuthFromJson(TemplateAuthToJson(*auth));
  ASSERT_TRUE(auth_back.ok());
  EXPECT_EQ(auth_back->kind, TemplateAuth::Kind::kSecret);
  EXPECT_EQ(auth_back->secret, "hush");
}

TEST(Templates, LibraryListsFiveTemplatesWithDefaults) {
  std::vector<std::string> names;
  for (const TemplateSpec& t : TemplateLibrary()) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"salesforce", "hubspot", "zoho", "n8n", "custom"}));
  EXPECT_EQ(FindTemplate("hubspot")->default_url, "https://api.hubapi.com");
  EXPECT_EQ(FindTemplate("zoho")->default_token_url, "https://accounts.zoho.com/oauth/v2/token");
  EXPECT_EQ(FindTemplate("salesforce")->default_token_url, "https://login.salesforce.com/services/oauth2/token");
}

}  // namespace
}  // namespace ulak::shape
