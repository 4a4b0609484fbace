//! template.yaml: the security properties the stack promises, that the flows
//! it deploys are exactly the files in contact-flows/, and what the stack
//! does for several instances, two regions and its alarms. The template's
//! `Fn::ForEach` loops are expanded here (`expand`) the way the
//! AWS::LanguageExtensions transform documents it, for two instances.

use std::collections::{BTreeMap, BTreeSet};

use connect_blocklist::store::{HIT_INDEX, attr};
use serde_json::{Map, Value, json};
use serde_yaml_ng::Value as Yaml;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PLACEHOLDER_ARN: &str = "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist";
const REPORT_PLACEHOLDER_ARN: &str =
    "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist-report";

/// The two instances the loops are expanded for.
const INSTANCES: [&str; 2] = [
    "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555",
    "arn:aws:connect:us-east-1:123456789012:instance/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
];

/// template.yaml as JSON, with short-form intrinsics (`!Ref x`, `!GetAtt a.b`,
/// `!Sub s`) turned into their long forms (`{"Ref": x}`, `{"Fn::GetAtt": "a.b"}`...),
/// as written: loops not expanded.
fn raw_template() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml")).unwrap();
    to_json(serde_yaml_ng::from_str(&text).unwrap())
}

/// The template as deployed with the default (the stack creates its tables)
/// for the two [`INSTANCES`].
fn template() -> Value {
    template_with(&INSTANCES, &[("CreateTables", true)])
}

/// The template with its loops expanded for `instances` and the `Fn::If`s of
/// the `conditions` given resolved (the others are left as they are).
fn template_with(instances: &[&str], conditions: &[(&str, bool)]) -> Value {
    resolve_ifs(&expand(&raw_template(), instances), conditions)
        .expect("the template is not AWS::NoValue")
}

/// `Fn::ForEach::<name>: [Identifier, Collection, {OutputKey: OutputValue}]`
/// in Resources, Conditions and Outputs, expanded as the LanguageExtensions
/// transform documents: each item of the collection (`!Ref
/// ConnectInstanceArns` is `instances`) makes a copy of the fragment with
/// `${Identifier}` replaced by the item, `&{Identifier}` by the item without
/// its non-alphanumeric characters, and `{"Ref": Identifier}` by the item.
fn expand(t: &Value, instances: &[&str]) -> Value {
    let mut t = t.clone();
    for section in ["Resources", "Conditions", "Outputs"] {
        let Some(entries) = t.get(section).and_then(Value::as_object).cloned() else {
            continue;
        };
        let mut expanded = Map::new();
        for (key, value) in entries {
            if !key.starts_with("Fn::ForEach::") {
                expanded.insert(key, value);
                continue;
            }
            let identifier = value[0].as_str().unwrap();
            let items: Vec<String> = match &value[1] {
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().unwrap().to_owned())
                    .collect(),
                v if *v == json!({"Ref": "ConnectInstanceArns"}) => {
                    instances.iter().map(|i| (*i).to_owned()).collect()
                }
                other => panic!("a collection the test cannot expand: {other}"),
            };
            for item in &items {
                for (out_key, out_value) in value[2].as_object().unwrap() {
                    let new_key = substitute_text(out_key, identifier, item);
                    let previous =
                        expanded.insert(new_key.clone(), substitute(out_value, identifier, item));
                    assert!(previous.is_none(), "{section}: {new_key} is made twice");
                }
            }
        }
        t[section] = Value::Object(expanded);
    }
    t
}

fn substitute_text(text: &str, identifier: &str, item: &str) -> String {
    let alphanumeric: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
    text.replace(&format!("${{{identifier}}}"), item)
        .replace(&format!("&{{{identifier}}}"), &alphanumeric)
}

fn substitute(v: &Value, identifier: &str, item: &str) -> Value {
    match v {
        Value::String(s) => json!(substitute_text(s, identifier, item)),
        Value::Array(a) => {
            Value::Array(a.iter().map(|x| substitute(x, identifier, item)).collect())
        }
        Value::Object(m) if m.len() == 1 && m.get("Ref") == Some(&json!(identifier)) => json!(item),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    (
                        substitute_text(k, identifier, item),
                        substitute(x, identifier, item),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `v` with each `Fn::If` on one of `conditions` replaced by the branch it
/// takes; `None` when that is `AWS::NoValue` (the key or item disappears).
fn resolve_ifs(v: &Value, conditions: &[(&str, bool)]) -> Option<Value> {
    match v {
        Value::Object(m) => {
            if let Some(branches) = m.get("Fn::If")
                && let Some((_, holds)) = conditions.iter().find(|(c, _)| branches[0] == *c)
            {
                let chosen = &branches[if *holds { 1 } else { 2 }];
                if *chosen == json!({"Ref": "AWS::NoValue"}) {
                    return None;
                }
                return resolve_ifs(chosen, conditions);
            }
            Some(Value::Object(
                m.iter()
                    .filter_map(|(k, x)| Some((k.clone(), resolve_ifs(x, conditions)?)))
                    .collect(),
            ))
        }
        Value::Array(a) => Some(Value::Array(
            a.iter()
                .filter_map(|x| resolve_ifs(x, conditions))
                .collect(),
        )),
        other => Some(other.clone()),
    }
}

/// The ARN the stack builds for a table it did not create (ExistingTables=true):
/// this region's table of that name, a global table's local replica.
fn named_table_arn(name_parameter: &str) -> Value {
    json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/${{{name_parameter}}}")})
}

fn to_json(y: Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => json!(b),
        Yaml::Number(n) => serde_json::to_value(&n).unwrap(),
        Yaml::String(s) => json!(s),
        Yaml::Sequence(seq) => Value::Array(seq.into_iter().map(to_json).collect()),
        Yaml::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.as_str().expect("string keys").to_owned(), to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = if name == "Ref" {
                "Ref".to_owned()
            } else {
                format!("Fn::{name}")
            };
            json!({ key: to_json(tagged.value) })
        }
    }
}

fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

fn one<'a>(t: &'a Value, kind: &str) -> (&'a String, &'a Value) {
    let found = resources_of_type(t, kind);
    assert_eq!(found.len(), 1, "exactly one {kind}");
    found[0]
}

/// A resource by logical id, checking its type.
fn resource<'a>(t: &'a Value, id: &str, kind: &str) -> &'a Value {
    let r = &t["Resources"][id];
    assert_eq!(r["Type"], kind, "{id}");
    r
}

const TABLE: &str = "BlockedPhoneNumbersTable";
const AUDIT_TABLE: &str = "BlocklistAuditTable";
const RULES_TABLE: &str = "BlocklistRulesTable";
const COUNTERS_TABLE: &str = "BlocklistCallCountersTable";

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    }
}

/// `{"Fn::GetAtt": "<id>.Arn"}`: the ARN of the resource `id`.
fn arn_of(id: &str) -> Value {
    json!({"Fn::GetAtt": format!("{id}.Arn")})
}

/// The statements of an IAM role's inline policies.
fn role_statements(role: &Value) -> Vec<&Value> {
    role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|policy| policy["PolicyDocument"]["Statement"].as_array().unwrap())
        .collect()
}

/// Every (action, resource) pair `statements` grant, sorted by action then
/// resource; each statement must be an `Allow`.
fn grants(statements: &[&Value]) -> Vec<(String, Value)> {
    let mut grants = Vec::new();
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        for action in as_list(&statement["Action"]) {
            for resource in as_list(&statement["Resource"]) {
                grants.push((action.as_str().unwrap().to_owned(), resource));
            }
        }
    }
    grants.sort_by_key(|(a, r)| (a.clone(), r.to_string()));
    grants
}

#[test]
fn declares_every_parameter() {
    let t = template();
    let params = t["Parameters"].as_object().unwrap();
    for name in [
        "ConnectInstanceArns",
        "ConnectInstanceArn",
        "NextContactFlowArn",
        "ExistingTables",
        "ReplicaRegions",
        "TableName",
        "DefaultCountry",
        "FailMode",
        "BlockAnonymous",
        "InvalidNumberAction",
        "LookupTimeoutMs",
        "LogPhoneNumbers",
        "LogRetentionDays",
        "DeployContactFlow",
        "AlarmEmail",
        "ReservedConcurrency",
    ] {
        assert!(params.contains_key(name), "parameter {name}");
    }
    let arns = &params["ConnectInstanceArns"];
    assert_eq!(arns["Type"], "CommaDelimitedList");
    assert!(
        arns.get("Default").is_none(),
        "ConnectInstanceArns is required"
    );
    let pattern = regex::Regex::new(arns["AllowedPattern"].as_str().unwrap()).unwrap();
    assert!(pattern.is_match(INSTANCES[0]));
    assert!(!pattern.is_match("arn:aws:connect:us-east-1:123456789012:instance/not-an-id"));
    assert!(!pattern.is_match(&format!("{}/extra", INSTANCES[0])));
    assert!(!pattern.is_match("*"));
    // Optional, and empty by default: CloudFormation names the tables.
    for name in [
        "ConnectInstanceArn",
        "NextContactFlowArn",
        "ReplicaRegions",
        "TableName",
        "RulesTableName",
        "AuditTableName",
        "AlarmEmail",
    ] {
        assert_eq!(params[name]["Default"], "", "{name}");
        let pattern = regex::Regex::new(params[name]["AllowedPattern"].as_str().unwrap()).unwrap();
        assert!(pattern.is_match(""), "{name} may be empty");
    }
    let flow = regex::Regex::new(
        params["NextContactFlowArn"]["AllowedPattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert!(flow.is_match(&format!(
        "{}/contact-flow/66666666-7777-8888-9999-000000000000",
        INSTANCES[0]
    )));
    assert!(!flow.is_match(INSTANCES[0]), "an instance is not a flow");
    let region =
        regex::Regex::new(params["ReplicaRegions"]["AllowedPattern"].as_str().unwrap()).unwrap();
    assert!(region.is_match("us-west-2") && region.is_match("eu-central-1"));
    assert!(
        !region.is_match("us-west-2,eu-west-2"),
        "one replica region"
    );
    assert_eq!(params["ReservedConcurrency"]["Default"], 0);
}

/// A table of the stack, checked for the protections every one has (a
/// global table, created unless ExistingTables=true, kept on delete and
/// replace, on demand, encryption, streams for replication; point-in-time
/// recovery and deletion protection on every replica), named by the
/// parameter `name_parameter` only when it is set, and its key schema;
/// returns its properties.
fn protected_table<'a>(
    t: &'a Value,
    id: &str,
    name_parameter: &str,
    key_schema: Value,
) -> &'a Value {
    let table = resource(t, id, "AWS::DynamoDB::GlobalTable");
    assert_eq!(table["Condition"], "CreateTables", "{id}");
    assert_eq!(table["DeletionPolicy"], "Retain", "{id}");
    assert_eq!(table["UpdateReplacePolicy"], "Retain", "{id}");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST", "{id}");
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true, "{id}");
    assert_eq!(
        p["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES",
        "{id}"
    );
    let name_condition = p["TableName"]["Fn::If"][0].as_str().unwrap();
    assert_eq!(
        p["TableName"],
        json!({"Fn::If": [name_condition, {"Ref": name_parameter}, {"Ref": "AWS::NoValue"}]}),
        "{id}: CloudFormation names it unless {name_parameter} is set"
    );
    assert_eq!(
        t["Conditions"][name_condition],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": name_parameter}, ""]}]})
    );
    assert_eq!(p["KeySchema"], key_schema, "{id}");
    let replicas = p["Replicas"].as_array().unwrap();
    assert_eq!(
        replicas[0]["Region"],
        json!({"Ref": "AWS::Region"}),
        "{id}: this region first"
    );
    let replica = &replicas[1]["Fn::If"];
    assert_eq!(replica[0], "HasReplica", "{id}");
    assert_eq!(
        replica[1]["Region"],
        json!({"Ref": "ReplicaRegions"}),
        "{id}"
    );
    assert_eq!(replica[2], json!({"Ref": "AWS::NoValue"}), "{id}");
    for replica in [&replicas[0], &replica[1]] {
        assert_eq!(
            replica["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
            "{id}"
        );
        assert_eq!(replica["DeletionProtectionEnabled"], true, "{id}");
    }
    p
}

/// Expired entries are deleted by DynamoDB's TTL on `expiresAt`.
fn ttl_on_expires_at() -> Value {
    json!({"AttributeName": "expiresAt", "Enabled": true})
}

/// The ARN of the hit index of the created table `id`.
fn index_arn_of(id: &str) -> Value {
    json!({"Fn::Sub": format!("${{{id}.Arn}}/index/{HIT_INDEX}")})
}

/// The hit index's attribute definitions and the index itself, as the
/// console's list Queries it (src/store's names) and `blocklist init`
/// makes it: sparse (only the hit counter sets its partition attribute),
/// by the last block, the whole item projected.
fn assert_hit_index(p: &Value, key: &str, id: &str) {
    assert_eq!(
        p["AttributeDefinitions"],
        json!([
            {"AttributeName": key, "AttributeType": "S"},
            {"AttributeName": attr::HIT_PARTITION, "AttributeType": "S"},
            {"AttributeName": attr::LAST_BLOCKED_AT, "AttributeType": "S"},
        ]),
        "{id}"
    );
    assert_eq!(
        p["GlobalSecondaryIndexes"],
        json!([{
            "IndexName": HIT_INDEX,
            "KeySchema": [
                {"AttributeName": attr::HIT_PARTITION, "KeyType": "HASH"},
                {"AttributeName": attr::LAST_BLOCKED_AT, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }]),
        "{id}"
    );
}

#[test]
fn table_is_protected() {
    let t = template();
    assert_eq!(
        resources_of_type(&t, "AWS::DynamoDB::GlobalTable").len(),
        3,
        "the blocklist, its rules and its audit trail"
    );
    // The one plain table: rate-limit counters, regional by design.
    let plain: Vec<&str> = resources_of_type(&t, "AWS::DynamoDB::Table")
        .into_iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(plain, [COUNTERS_TABLE]);
    assert_eq!(
        t["Conditions"]["HasReplica"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ReplicaRegions"}, ""]}]})
    );
    let p = protected_table(
        &t,
        TABLE,
        "TableName",
        json!([{"AttributeName": "phoneNumber", "KeyType": "HASH"}]),
    );
    assert_hit_index(p, "phoneNumber", TABLE);
    assert_eq!(p["TimeToLiveSpecification"], ttl_on_expires_at());
}

#[test]
fn rules_table_has_the_same_protections() {
    let t = template();
    let p = protected_table(
        &t,
        RULES_TABLE,
        "RulesTableName",
        json!([{"AttributeName": "ruleKey", "KeyType": "HASH"}]),
    );
    assert_hit_index(p, "ruleKey", RULES_TABLE);
    assert_eq!(p["TimeToLiveSpecification"], ttl_on_expires_at());
}

#[test]
fn audit_table_has_the_same_protections() {
    let t = template();
    protected_table(
        &t,
        AUDIT_TABLE,
        "AuditTableName",
        json!([{"AttributeName": "phoneNumber", "KeyType": "HASH"}, {"AttributeName": "auditId", "KeyType": "RANGE"}]),
    );
}

/// The admin policy grants what the CLI uses and nothing more; the audit
/// trail is append-only (no UpdateItem/DeleteItem on it).
#[test]
fn admin_policy_grants_exactly_what_the_cli_needs() {
    let t = template();
    let (policy_id, policy) = one(&t, "AWS::IAM::ManagedPolicy");
    let statements: Vec<&Value> = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    let on = |table: &str, actions: &[&str]| {
        actions
            .iter()
            .map(|a| (format!("dynamodb:{a}"), arn_of(table)))
            .collect::<Vec<_>>()
    };
    // The blocklist and rules tables: no batch writes (each write is
    // conditional on the version it read), and no deletes but the rules
    // snapshot's chunks (a remove puts a versioned tombstone).
    let read_write = ["BatchGetItem", "GetItem", "PutItem", "Scan"];
    let mut expected = on(TABLE, &read_write);
    // The audit trail: appended and read, never changed.
    expected.extend(on(AUDIT_TABLE, &["PutItem", "Query"]));
    expected.extend(on(RULES_TABLE, &read_write));
    expected.extend(on(RULES_TABLE, &["DeleteItem"]));
    // `blocklist serve`'s list newest block first: the indexes, Query only.
    for table in [TABLE, RULES_TABLE] {
        expected.push(("dynamodb:Query".to_owned(), index_arn_of(table)));
    }
    expected.sort_by_key(|(a, r)| (a.clone(), r.to_string()));
    assert_eq!(grants(&statements), expected);
    assert_eq!(
        t["Outputs"]["AdminPolicyArn"]["Value"],
        json!({"Ref": policy_id})
    );
}

#[test]
fn function_is_the_arm64_rust_lambda() {
    let t = template();
    let f = resource(&t, "BlocklistFunction", "AWS::Serverless::Function");
    assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], "bootstrap");
    let p = &f["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023");
    assert_eq!(p["Architectures"], json!(["arm64"]));
    assert_eq!(p["Handler"], "bootstrap");
    assert_eq!(p["MemorySize"], 128);
    assert!(p["Timeout"].as_u64().unwrap() <= 3);
    assert_eq!(p["LoggingConfig"]["LogFormat"], "JSON");
    assert!(
        p.get("Policies").is_none(),
        "no SAM policy templates: the role is explicit"
    );
    let env = p["Environment"]["Variables"].as_object().unwrap();
    assert_eq!(
        env["TABLE_NAME"],
        json!({"Ref": TABLE}),
        "TABLE_NAME is the stack's table"
    );
    for (var, param) in [
        ("DEFAULT_COUNTRY", "DefaultCountry"),
        ("FAIL_MODE", "FailMode"),
        ("BLOCK_ANONYMOUS", "BlockAnonymous"),
        ("INVALID_NUMBER_ACTION", "InvalidNumberAction"),
        ("LOOKUP_TIMEOUT_MS", "LookupTimeoutMs"),
        ("LOG_PHONE_NUMBERS", "LogPhoneNumbers"),
        ("RULES_REFRESH_SECONDS", "RulesRefreshSeconds"),
        ("RECORD_HITS", "RecordHits"),
        ("METRICS_NAMESPACE", "MetricsNamespace"),
    ] {
        assert_eq!(env[var], json!({"Ref": param}), "{var}");
    }
    // Its own log group, with retention from the parameter.
    let group_ref = &p["LoggingConfig"]["LogGroup"];
    let group_name = "BlocklistLogGroup";
    let group = resource(&t, group_name, "AWS::Logs::LogGroup");
    assert_eq!(
        group["Properties"]["RetentionInDays"],
        json!({"Ref": "LogRetentionDays"})
    );
    assert_eq!(group_ref, &json!({"Ref": group_name}));
}

#[test]
fn function_role_is_least_privilege() {
    let t = template();
    let table_name = TABLE;
    let log_group = "BlocklistLogGroup";
    let f = resource(&t, "BlocklistFunction", "AWS::Serverless::Function");
    let role_name = f["Properties"]["Role"]["Fn::GetAtt"]
        .as_str()
        .unwrap()
        .trim_end_matches(".Arn")
        .to_owned();
    let role = &t["Resources"][&role_name];
    assert_eq!(role["Type"], "AWS::IAM::Role");
    let p = &role["Properties"];
    assert!(p.get("ManagedPolicyArns").is_none(), "no managed policies");
    let trust = &p["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_array().unwrap().len(), 1);
    assert_eq!(
        trust[0]["Principal"],
        json!({"Service": "lambda.amazonaws.com"})
    );

    assert_eq!(
        grants(&role_statements(role)),
        vec![
            ("dynamodb:GetItem".to_owned(), arn_of(table_name)),
            ("dynamodb:GetItem".to_owned(), arn_of(RULES_TABLE)),
            ("dynamodb:UpdateItem".to_owned(), arn_of(table_name)),
            ("dynamodb:UpdateItem".to_owned(), arn_of(COUNTERS_TABLE)),
            ("dynamodb:UpdateItem".to_owned(), arn_of(RULES_TABLE)),
            ("logs:CreateLogStream".to_owned(), arn_of(log_group)),
            ("logs:PutLogEvents".to_owned(), arn_of(log_group)),
        ]
    );
}

/// No IAM statement anywhere in the template grants `*` actions or resources.
#[test]
fn no_wildcards_anywhere() {
    fn walk(v: &Value, path: &str, found: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    if (k == "Resource" || k == "Action")
                        && as_list(child).iter().any(|x| {
                            x.as_str()
                                .is_some_and(|s| s == "*" || s.ends_with(":*") && k == "Action")
                        })
                    {
                        found.push(format!("{path}/{k}"));
                    }
                    walk(child, &format!("{path}/{k}"), found);
                }
            }
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, c)| walk(c, &format!("{path}/{i}"), found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&template(), "", &mut found);
    assert!(found.is_empty(), "wildcards at {found:?}");
}

/// Each instance gets its own invoke permission for each function (scoped
/// to the instance and this account), integration associations, the flow
/// module and the Report caller flow; nothing is shared between instances.
#[test]
fn every_instance_gets_its_permissions_associations_and_flows() {
    let t = template();
    // (The console's, for its API, has its own test.)
    let permissions: Vec<_> = resources_of_type(&t, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| p["Condition"] != "DeployConsoleFunction")
        .collect();
    assert_eq!(
        permissions.len(),
        4,
        "the lookup and the report function, per instance"
    );
    let mut pairs = Vec::new();
    for (_, perm) in permissions {
        let p = &perm["Properties"];
        assert_eq!(p["Principal"], "connect.amazonaws.com");
        assert_eq!(p["Action"], "lambda:InvokeFunction");
        assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
        let function = p["FunctionName"]["Fn::GetAtt"].as_str().unwrap().to_owned();
        pairs.push((function, p["SourceArn"].as_str().unwrap().to_owned()));
    }
    pairs.sort();
    let mut expected: Vec<(String, String)> = ["BlocklistFunction.Arn", "ReportFunction.Arn"]
        .iter()
        .flat_map(|f| {
            INSTANCES
                .iter()
                .map(move |i| ((*f).to_owned(), (*i).to_owned()))
        })
        .collect();
    expected.sort();
    assert_eq!(pairs, expected);
    // The functions' associations (the agent app's, APPLICATION and only
    // with AgentAppUrl, are checked in agent_app_is_registered_...).
    let mut associations: Vec<(String, String)> =
        resources_of_type(&t, "AWS::Connect::IntegrationAssociation")
            .into_iter()
            .filter(|(_, a)| a["Properties"]["IntegrationType"] != "APPLICATION")
            .map(|(_, a)| {
                assert!(a.get("Condition").is_none(), "{a}");
                assert_eq!(a["Properties"]["IntegrationType"], "LAMBDA_FUNCTION");
                let function = a["Properties"]["IntegrationArn"]["Fn::GetAtt"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (
                    function,
                    a["Properties"]["InstanceId"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
    associations.sort();
    assert_eq!(associations, expected);
    let modules: Vec<&str> = resources_of_type(&t, "AWS::Connect::ContactFlowModule")
        .into_iter()
        .map(|(_, m)| m["Properties"]["InstanceArn"].as_str().unwrap())
        .collect();
    assert_eq!(modules, INSTANCES, "one module per instance");
    let report_flows: Vec<&str> = resources_of_type(&t, "AWS::Connect::ContactFlow")
        .into_iter()
        .filter(|(_, f)| f["Properties"]["Type"] == "QUEUE_TRANSFER")
        .map(|(_, f)| f["Properties"]["InstanceArn"].as_str().unwrap())
        .collect();
    assert_eq!(
        report_flows, INSTANCES,
        "one Report caller flow per instance"
    );
    // Each module and Report caller flow waits for its own instance's
    // association and permission.
    for (id, r) in t["Resources"].as_object().unwrap() {
        for (prefix, function) in [
            ("BlocklistModule", "Blocklist"),
            ("ReportCallerFlow", "Report"),
        ] {
            if let Some(instance) = id.strip_prefix(prefix) {
                assert_eq!(
                    r["DependsOn"],
                    json!([
                        format!("{function}IntegrationAssociation{instance}"),
                        format!("{function}ConnectPermission{instance}")
                    ]),
                    "{id}"
                );
                assert!(
                    t["Resources"]
                        .get(format!("{function}IntegrationAssociation{instance}"))
                        .is_some()
                );
            }
        }
    }
    // The logical ids carry the instance, so an instance added or removed
    // changes only its own resources.
    assert!(t["Resources"].as_object().unwrap().contains_key(
        "BlocklistModulearnawsconnectuseast1123456789012instance11111111222233334444555555555555"
    ));
    // One instance: one set.
    let single = template_with(&INSTANCES[..1], &[("CreateTables", true)]);
    let connect_permissions = resources_of_type(&single, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| p["Properties"]["Principal"] == "connect.amazonaws.com");
    assert_eq!(connect_permissions.count(), 2);
}

/// The inbound flow is deployed once, into the first instance (the one its
/// next flow belongs to), and only with DeployContactFlow=true; rules make
/// a deploy that lacks what it needs fail before anything is created, saying
/// what to set.
#[test]
fn rules_refuse_a_deploy_that_lacks_what_it_needs() {
    let t = template();
    let rules = &t["Rules"];
    let next = &rules["InboundFlowNeedsTheNextFlow"];
    assert_eq!(
        next["RuleCondition"],
        json!({"Fn::Equals": [{"Ref": "DeployContactFlow"}, "true"]})
    );
    assert_eq!(
        next["Assertions"][0]["Assert"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "NextContactFlowArn"}, ""]}]})
    );
    assert!(
        next["Assertions"][0]["AssertDescription"]
            .as_str()
            .unwrap()
            .contains("Set NextContactFlowArn")
    );
    assert_eq!(
        rules["InstancesHaveNoEmptyEntry"]["Assertions"][0]["Assert"],
        json!({"Fn::Not": [{"Fn::Contains": [{"Ref": "ConnectInstanceArns"}, ""]}]})
    );
    assert_eq!(
        rules["SingleInstanceParameterIsListed"]["Assertions"][0]["Assert"],
        json!({"Fn::Contains": [{"Ref": "ConnectInstanceArns"}, {"Ref": "ConnectInstanceArn"}]})
    );
    let existing = &rules["ExistingTablesAreNamed"];
    assert_eq!(
        existing["RuleCondition"],
        json!({"Fn::Equals": [{"Ref": "ExistingTables"}, "true"]})
    );
    let named = existing["Assertions"][0]["Assert"]["Fn::And"].to_string();
    for name in ["TableName", "RulesTableName", "AuditTableName"] {
        assert!(
            named.contains(&format!("{{\"Ref\":\"{name}\"}}")),
            "{name} is required"
        );
    }
    let flow = resource(&t, "BlockUnwantedCallersFlow", "AWS::Connect::ContactFlow");
    assert_eq!(flow["Condition"], "DeployFlow");
    assert_eq!(
        flow["Properties"]["InstanceArn"],
        json!({"Fn::Select": [0, {"Ref": "ConnectInstanceArns"}]})
    );
}

/// The statements of `role` with its `Fn::If` statements resolved for one
/// value of their condition (`AWS::NoValue` leaves the statement out).
fn statements_when<'a>(role: &'a Value, condition: &str, holds: bool) -> Vec<&'a Value> {
    role_statements(role)
        .into_iter()
        .filter_map(|statement| match statement.get("Fn::If") {
            None => Some(statement),
            Some(branches) => {
                assert_eq!(branches[0], condition, "{statement}");
                let chosen = &branches[if holds { 1 } else { 2 }];
                (chosen != &json!({"Ref": "AWS::NoValue"})).then_some(chosen)
            }
        })
        .collect()
}

/// The attributes a report writes (and a block made at once from one).
const REPORT_ATTRIBUTES: [&str; 8] = [
    "phoneNumber",
    "reason",
    "createdAt",
    "createdBy",
    "status",
    "contactId",
    "version",
    "expiresAt",
];

/// The report function's role can write nothing the lookup reads as a
/// block: its writes to the blocklist (and to the audit trail) are fenced
/// with `dynamodb:LeadingKeys` to `report#*`, keys the Lambda never reads;
/// no scan, no update. Only with ReportsBlockImmediately=true may it write
/// blocks at the numbers' own keys.
#[test]
fn report_role_is_fenced_to_reports() {
    let t = template();
    let f = resource(&t, "ReportFunction", "AWS::Serverless::Function");
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], "report");
    assert_eq!(f["Properties"]["Architectures"], json!(["arm64"]));
    assert_eq!(f["Properties"]["Role"], arn_of("ReportFunctionRole"));
    assert_eq!(
        t["Conditions"]["ReportsBlockNow"],
        json!({"Fn::Equals": [{"Ref": "ReportsBlockImmediately"}, "true"]})
    );
    // Reports write blocks only when they block at once or by themselves.
    assert_eq!(
        t["Conditions"]["ReportsCanBlock"],
        json!({"Fn::Or": [{"Fn::Condition": "ReportsBlockNow"}, {"Fn::Condition": "ReportsAutoBlock"}]})
    );
    assert_eq!(
        t["Conditions"]["ReportsAutoBlock"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ReportsAutoBlockThreshold"}, 0]}]})
    );
    let env = &f["Properties"]["Environment"]["Variables"];
    for (var, parameter) in [
        ("REPORTS_AUTO_BLOCK_THRESHOLD", "ReportsAutoBlockThreshold"),
        (
            "REPORTS_AUTO_BLOCK_WINDOW_HOURS",
            "ReportsAutoBlockWindowHours",
        ),
        ("REPORTS_AUTO_BLOCK_EXPIRES", "ReportsAutoBlockExpires"),
    ] {
        assert_eq!(env[var], json!({"Ref": parameter}), "{var}");
    }
    assert_eq!(
        t["Parameters"]["ReportsAutoBlockThreshold"]["Default"], 0,
        "off by default"
    );
    let role = resource(&t, "ReportFunctionRole", "AWS::IAM::Role");
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
    let fenced = statements_when(role, "ReportsCanBlock", false);
    let writes = [
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:UpdateItem",
    ];
    for statement in &fenced {
        let writes_tables = as_list(&statement["Action"])
            .iter()
            .any(|a| writes.contains(&a.as_str().unwrap()));
        if writes_tables {
            assert_eq!(
                statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
                json!(["report#*"]),
                "an unfenced write: {statement}"
            );
        }
        if statement["Resource"] == arn_of(TABLE) && writes_tables {
            let mut attrs = REPORT_ATTRIBUTES.to_vec();
            attrs.insert(1, "kind");
            attrs.push("reportedBy");
            assert_eq!(
                statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"],
                json!(attrs)
            );
        }
    }
    let expected = |extra: &[(&str, &str)]| {
        let mut grants: Vec<(String, Value)> = [
            ("dynamodb:GetItem", TABLE),
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:PutItem", AUDIT_TABLE),
            ("dynamodb:Query", AUDIT_TABLE),
            ("logs:CreateLogStream", "ReportLogGroup"),
            ("logs:PutLogEvents", "ReportLogGroup"),
        ]
        .iter()
        .chain(extra)
        .map(|(a, r)| ((*a).to_owned(), arn_of(r)))
        .collect();
        grants.sort_by_key(|(a, r)| (a.clone(), r.to_string()));
        grants
    };
    assert_eq!(grants(&fenced), expected(&[]));
    let at_once = statements_when(role, "ReportsCanBlock", true);
    assert_eq!(
        grants(&at_once),
        expected(&[
            ("dynamodb:PutItem", TABLE),
            ("dynamodb:PutItem", AUDIT_TABLE),
            ("dynamodb:Query", AUDIT_TABLE),
        ])
    );
    let block_at_once = at_once.iter().find(|s| s["Sid"] == "BlockAtOnce").unwrap();
    assert_eq!(
        block_at_once["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"],
        json!(REPORT_ATTRIBUTES),
        "a block made at once has no action, message or queue"
    );
}

/// No role or policy in the template may delete, update or batch-write an
/// audit record: the trail is append-only for everyone.
#[test]
fn no_grant_can_change_an_audit_record() {
    let t = template();
    let audit = arn_of(AUDIT_TABLE);
    let mut statements: Vec<&Value> = Vec::new();
    for (_, role) in resources_of_type(&t, "AWS::IAM::Role") {
        for holds in [false, true] {
            statements.extend(statements_when(role, "ReportsCanBlock", holds));
        }
    }
    for (_, policy) in resources_of_type(&t, "AWS::IAM::ManagedPolicy") {
        statements.extend(
            policy["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .unwrap(),
        );
    }
    let on_audit: Vec<String> = grants(&statements)
        .into_iter()
        .filter(|(_, r)| *r == audit || r.to_string().contains("*"))
        .map(|(a, _)| a)
        .collect();
    assert!(!on_audit.is_empty());
    for action in &on_audit {
        assert!(
            ["dynamodb:PutItem", "dynamodb:Query"].contains(&action.as_str()),
            "{action} on the audit table"
        );
    }
}

#[test]
fn alarms_watch_errors_and_throttles() {
    let t = template();
    let metrics: Vec<_> = resources_of_type(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .filter(|(_, a)| a["Properties"]["Namespace"] == "AWS/Lambda")
        .map(|(_, a)| a["Properties"]["MetricName"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        metrics.contains(&"Errors".to_owned()) && metrics.contains(&"Throttles".to_owned()),
        "{metrics:?}"
    );
}

/// Every alarm notifies the stack's topic when it fires and when it clears;
/// AlarmEmail subscribes an address only when given.
#[test]
fn every_alarm_reaches_the_topic() {
    let t = template();
    let topic = json!([{"Ref": "AlarmTopic"}]);
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 6, "{}", alarms.len());
    for (id, alarm) in &alarms {
        assert_eq!(alarm["Properties"]["AlarmActions"], topic, "{id}");
        assert_eq!(alarm["Properties"]["OKActions"], topic, "{id}");
    }
    resource(&t, "AlarmTopic", "AWS::SNS::Topic");
    let email = resource(&t, "AlarmEmailSubscription", "AWS::SNS::Subscription");
    assert_eq!(email["Condition"], "HasAlarmEmail");
    assert_eq!(email["Properties"]["Protocol"], "email");
    assert_eq!(
        email["Properties"]["Endpoint"],
        json!({"Ref": "AlarmEmail"})
    );
    assert_eq!(
        email["Properties"]["TopicArn"],
        json!({"Ref": "AlarmTopic"})
    );
    assert_eq!(
        t["Conditions"]["HasAlarmEmail"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]})
    );
    assert_eq!(
        t["Outputs"]["AlarmTopicArn"]["Value"],
        json!({"Ref": "AlarmTopic"})
    );
}

/// A Connect-side timeout or throttle sends the call down the Lambda block's
/// error branch with no Lambda error: Connect's own ContactFlowErrors for the
/// module (per instance) and the inbound flow are alarmed on.
#[test]
fn connect_side_errors_are_alarmed_on() {
    let t = template();
    let connect: Vec<&Value> = resources_of_type(&t, "AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(_, a)| &a["Properties"])
        .filter(|p| p["Namespace"] == "AWS/Connect")
        .collect();
    assert_eq!(
        connect.len(),
        INSTANCES.len() + 1,
        "the module in each instance and the inbound flow"
    );
    let mut flows = Vec::new();
    for p in &connect {
        assert_eq!(p["MetricName"], "ContactFlowErrors");
        let dimensions = p["Dimensions"].as_array().unwrap();
        let names: Vec<&str> = dimensions
            .iter()
            .map(|d| d["Name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["InstanceId", "MetricGroup", "ContactFlowName"]);
        assert_eq!(dimensions[1]["Value"], "ContactFlow");
        flows.push(
            dimensions[2]["Value"]["Fn::Sub"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        assert_eq!(p["Threshold"], 1);
    }
    for name in [
        "${AWS::StackName}-blocklist",
        "${AWS::StackName}-block-unwanted-callers",
    ] {
        assert!(flows.contains(&name.to_owned()), "{name}: {flows:?}");
    }
    // Each alarm watches the flow of its own instance, by instance id.
    let module_instances: Vec<Value> = connect
        .iter()
        .filter(|p| p["Dimensions"][2]["Value"]["Fn::Sub"] == "${AWS::StackName}-blocklist")
        .map(|p| p["Dimensions"][0]["Value"].clone())
        .collect();
    let expected: Vec<Value> = INSTANCES
        .iter()
        .map(|i| json!({"Fn::Select": [1, {"Fn::Split": [":instance/", i]}]}))
        .collect();
    assert_eq!(module_instances, expected);
    let inbound = resource(&t, "InboundFlowErrorsAlarm", "AWS::CloudWatch::Alarm");
    assert_eq!(inbound["Condition"], "DeployFlow");
}

/// Two stacks in one account (or a redeploy after a delete, whose tables
/// are kept) must not collide: nothing is given a fixed name that
/// CloudFormation can choose, and no stack name is too long for a name.
#[test]
fn nothing_that_can_be_named_by_cloudformation_has_a_fixed_name() {
    let t = raw_template();
    for (id, r) in t["Resources"].as_object().unwrap() {
        let p = &r["Properties"];
        for key in [
            "FunctionName",
            "LogGroupName",
            "TopicName",
            "RoleName",
            "ManagedPolicyName",
        ] {
            // A permission's FunctionName is the function it lets be
            // invoked, not a name it gives.
            if key == "FunctionName" && r["Type"] == "AWS::Lambda::Permission" {
                continue;
            }
            assert!(p.get(key).is_none(), "{id} has a fixed {key}");
        }
        if let Some(name) = p.get("TableName") {
            assert!(
                name.get("Fn::If").is_some(),
                "{id}: a table is named only when asked"
            );
        }
    }
    let f = resource(&t, "BlocklistFunction", "AWS::Serverless::Function");
    assert_eq!(
        f["Properties"]["ReservedConcurrentExecutions"],
        json!({"Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]})
    );
    assert_eq!(
        t["Conditions"]["HasReservedConcurrency"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ReservedConcurrency"}, "0"]}]})
    );
}

/// With ExistingTables=true (the functions of a replica region, or tables
/// kept from an earlier stack) the stack creates no table and every grant,
/// variable and output names this region's table of the given name: the
/// same least privilege, on the replica.
#[test]
fn existing_tables_are_used_by_name_with_the_same_grants() {
    let t = template_with(&INSTANCES, &[("CreateTables", false)]);
    let created = template();
    let to_named = |v: &Value| -> Value {
        let mut text = v.to_string();
        for (id, parameter) in [
            (TABLE, "TableName"),
            (RULES_TABLE, "RulesTableName"),
            (AUDIT_TABLE, "AuditTableName"),
        ] {
            text = text
                .replace(
                    &arn_of(id).to_string(),
                    &named_table_arn(parameter).to_string(),
                )
                .replace(
                    &json!({"Ref": id}).to_string(),
                    &json!({"Ref": parameter}).to_string(),
                )
                .replace(
                    &index_arn_of(id).to_string(),
                    &json!({"Fn::Sub": format!(
                        "arn:${{AWS::Partition}}:dynamodb:${{AWS::Region}}:${{AWS::AccountId}}:table/${{{parameter}}}/index/{HIT_INDEX}"
                    )})
                    .to_string(),
                );
        }
        serde_json::from_str(&text).unwrap()
    };
    for (id, kind) in [
        ("BlocklistFunctionRole", "AWS::IAM::Role"),
        ("ReportFunctionRole", "AWS::IAM::Role"),
        ("BlocklistAdminPolicy", "AWS::IAM::ManagedPolicy"),
        ("BlocklistFunction", "AWS::Serverless::Function"),
        ("ReportFunction", "AWS::Serverless::Function"),
    ] {
        assert_eq!(
            resource(&t, id, kind),
            &to_named(resource(&created, id, kind)),
            "{id}"
        );
    }
    for output in [
        "TableName",
        "TableArn",
        "RulesTableName",
        "AuditTableName",
        "CliEnvironment",
    ] {
        assert_eq!(
            t["Outputs"][output],
            to_named(&created["Outputs"][output]),
            "{output}"
        );
    }
    assert!(
        !t.to_string().contains(&arn_of(TABLE).to_string()),
        "nothing refers to a created table"
    );
    assert_eq!(
        t["Conditions"]["CreateTables"],
        json!({"Fn::Equals": [{"Ref": "ExistingTables"}, "false"]})
    );
}

/// Pointing the CLI at a stack's tables is one step: an output with the
/// exact `export` line.
#[test]
fn the_cli_environment_output_exports_the_stack_tables() {
    let t = template();
    let sub = &t["Outputs"]["CliEnvironment"]["Value"]["Fn::Sub"];
    assert_eq!(
        sub[0],
        "export AWS_REGION=${AWS::Region} TABLE_NAME=${Table} RULES_TABLE_NAME=${Rules} AUDIT_TABLE_NAME=${Audit} COUNTERS_TABLE_NAME=${Counters}"
    );
    assert_eq!(
        sub[1],
        json!({"Table": {"Ref": TABLE}, "Rules": {"Ref": RULES_TABLE}, "Audit": {"Ref": AUDIT_TABLE}, "Counters": {"Ref": COUNTERS_TABLE}})
    );
    // The variables are the ones the CLI reads.
    let args = std::fs::read_to_string(format!("{ROOT}/src/cli/args.rs")).unwrap();
    for var in [
        "TABLE_NAME",
        "RULES_TABLE_NAME",
        "AUDIT_TABLE_NAME",
        "COUNTERS_TABLE_NAME",
        "AWS_REGION",
    ] {
        assert!(
            args.contains(&format!("env = \"{var}\"")),
            "the CLI reads {var}"
        );
    }
}

#[test]
fn outputs_name_what_was_deployed() {
    let t = template();
    let outputs: Map<String, Value> = t["Outputs"].as_object().unwrap().clone();
    for name in [
        "FunctionArn",
        "TableName",
        "TableArn",
        "RulesTableName",
        "AuditTableName",
        "AdminPolicyArn",
        "ReportFunctionArn",
        "DashboardName",
        "ContactFlowArn",
        "AlarmTopicArn",
        "Region",
        "CliEnvironment",
    ] {
        assert!(outputs.contains_key(name), "output {name}");
    }
    assert_eq!(outputs["ContactFlowArn"]["Condition"], "DeployFlow");
}

/// The placeholders of the flow files and what the template puts there.
const LOOKUP: (&str, &str) = (PLACEHOLDER_ARN, "${BlocklistFunction.Arn}");
const FAIL_MODE: (&str, &str) = (
    r#""blocklistFailMode": "open""#,
    r#""blocklistFailMode": "${FailMode}""#,
);
const NEXT_FLOW: (&str, &str) = (
    "arn:aws:connect:REGION:ACCOUNT_ID:instance/INSTANCE_ID/contact-flow/NEXT_FLOW_ID",
    "${NextContactFlowArn}",
);

/// One source of truth: each flow the template deploys is its file's flow,
/// with only its placeholders filled in: the function, the fail mode (the
/// lookup-error path compares `blocklistFailMode` with `closed`) and the
/// team's own flow.
#[test]
fn deployed_flows_are_the_contact_flows_files() {
    let t = template();
    let report = (REPORT_PLACEHOLDER_ARN, "${ReportFunction.Arn}");
    let inbound = resource(&t, "BlockUnwantedCallersFlow", "AWS::Connect::ContactFlow");
    let module_id = format!(
        "BlocklistModule{}",
        INSTANCES[0]
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
    );
    let module = resource(&t, &module_id, "AWS::Connect::ContactFlowModule");
    let report_flow = resources_of_type(&t, "AWS::Connect::ContactFlow")
        .into_iter()
        .find(|(_, f)| f["Properties"]["Type"] == "QUEUE_TRANSFER")
        .unwrap()
        .1;
    assert_eq!(inbound["Properties"]["Type"], "CONTACT_FLOW");
    for (deployed, file, substitutions) in [
        (
            inbound,
            "block-unwanted-callers.json",
            vec![LOOKUP, FAIL_MODE, NEXT_FLOW],
        ),
        (module, "blocklist-module.json", vec![LOOKUP, FAIL_MODE]),
        (report_flow, "report-caller.json", vec![report]),
    ] {
        let content = deployed["Properties"]["Content"]["Fn::Sub"]
            .as_str()
            .expect("Content is !Sub of the flow");
        let expected_substitutions: usize = substitutions
            .iter()
            .map(|(_, v)| content.matches(v).count())
            .sum();
        assert_eq!(
            content.matches("${").count(),
            expected_substitutions,
            "{file}: only the placeholders"
        );
        let mut text = content.to_owned();
        for (placeholder, value) in &substitutions {
            assert!(content.contains(value), "{file}: {value}");
            text = text.replace(value, placeholder);
        }
        let deployed: Value = serde_json::from_str(&text).unwrap();
        let file_flow: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{ROOT}/contact-flows/{file}")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            deployed, file_flow,
            "template.yaml's {file} drifted from the file: run scripts/sync-template-flow.py"
        );
    }
}

/// The lookup role's UpdateItem statement whose resource is `table`.
fn update_grant_on<'a>(role: &'a Value, table: &str) -> &'a Value {
    let statements: Vec<&Value> = role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .filter(|s| as_list(&s["Action"]).contains(&json!("dynamodb:UpdateItem")))
        .filter(|s| {
            as_list(&s["Resource"])
                .iter()
                .any(|r| r.to_string().contains(table))
        })
        .collect();
    assert_eq!(statements.len(), 1, "one UpdateItem statement on {table}");
    assert_eq!(
        as_list(&statements[0]["Action"]).len(),
        1,
        "UpdateItem alone"
    );
    statements[0]
}

/// The attributes an UpdateItem statement's condition allows, sorted, and
/// the ReturnValues it requires.
fn update_condition(statement: &Value) -> (Vec<&str>, &Value) {
    let condition = &statement["Condition"];
    let mut attributes: Vec<&str> = condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    attributes.sort_unstable();
    (
        attributes,
        &condition["StringEqualsIfExists"]["dynamodb:ReturnValues"],
    )
}

/// The hit-count grant is limited to blockCount, lastBlockedAt and the hit
/// index's partition attribute (and the keys) by a `dynamodb:Attributes`
/// condition, and returns nothing.
#[test]
fn hit_count_grant_is_limited_to_its_attributes() {
    let t = template();
    let role = resource(&t, "BlocklistFunctionRole", "AWS::IAM::Role");
    let hits = update_grant_on(role, TABLE);
    assert_eq!(
        as_list(&hits["Resource"]).len(),
        2,
        "the blocklist and rules tables"
    );
    let (attributes, returns) = update_condition(hits);
    assert_eq!(
        attributes,
        [
            "blockCount",
            "hitPartition",
            "lastBlockedAt",
            "phoneNumber",
            "ruleKey"
        ]
    );
    assert_eq!(returns, "NONE");
}

/// Rate-limit counting may only UpdateItem the counters table (a plain
/// regional table with TTL), touching the counter's attributes and
/// returning the new count; the function is told the table and the limit.
#[test]
fn the_rate_limit_counts_in_its_own_table_with_one_narrow_grant() {
    let t = template();
    let counters = resource(&t, COUNTERS_TABLE, "AWS::DynamoDB::Table");
    assert_eq!(
        counters["Properties"]["KeySchema"][0]["AttributeName"],
        "counterKey"
    );
    assert_eq!(
        counters["Properties"]["TimeToLiveSpecification"],
        ttl_on_expires_at()
    );
    assert!(
        counters["Properties"].get("TableName").is_none(),
        "CloudFormation names it"
    );
    let role = resource(&t, "BlocklistFunctionRole", "AWS::IAM::Role");
    let count = update_grant_on(role, COUNTERS_TABLE);
    assert_eq!(as_list(&count["Resource"]), [arn_of(COUNTERS_TABLE)]);
    let (attributes, returns) = update_condition(count);
    assert_eq!(attributes, ["calls", "counterKey", "expiresAt"]);
    assert_eq!(returns, "UPDATED_NEW");
    let env = &resource(&t, "BlocklistFunction", "AWS::Serverless::Function")["Properties"]["Environment"]
        ["Variables"];
    assert_eq!(env["COUNTERS_TABLE_NAME"], json!({"Ref": COUNTERS_TABLE}));
    for (var, parameter, default) in [
        ("RATE_LIMIT_CALLS", "RateLimitCalls", json!(0)),
        (
            "RATE_LIMIT_WINDOW_SECONDS",
            "RateLimitWindowSeconds",
            json!(300),
        ),
        ("RATE_LIMIT_ACTION", "RateLimitAction", json!("message")),
    ] {
        assert_eq!(env[var], json!({"Ref": parameter}), "{var}");
        assert_eq!(
            t["Parameters"][parameter]["Default"], default,
            "{parameter}"
        );
    }
    assert_eq!(
        env["RATE_LIMIT_MESSAGE"],
        json!({"Ref": "RateLimitMessage"})
    );
    assert_eq!(
        t["Parameters"]["RateLimitMessage"]["Default"],
        connect_blocklist::config::DEFAULT_RATE_LIMIT_MESSAGE
    );
}

/// A failed rules load (the rules table missing) is alarmed on, and the
/// alarm reaches the stack's topic.
#[test]
fn a_failed_rules_load_is_alarmed_on() {
    let t = template();
    let alarm = resource(
        &t,
        "BlocklistRulesLoadFailedAlarm",
        "AWS::CloudWatch::Alarm",
    );
    let p = &alarm["Properties"];
    assert_eq!(p["MetricName"], "RulesLoadFailed");
    assert_eq!(p["Namespace"], json!({"Ref": "MetricsNamespace"}));
    assert_eq!(
        p["Dimensions"][0]["Value"],
        json!({"Ref": "BlocklistFunction"})
    );
    assert_eq!(p["AlarmActions"], json!([{"Ref": "AlarmTopic"}]));
    let dashboard =
        one(&t, "AWS::CloudWatch::Dashboard").1["Properties"]["DashboardBody"]["Fn::Sub"][0]
            .as_str()
            .unwrap()
            .to_owned();
    for event in connect_blocklist::metrics::EventMetric::ALL {
        assert!(
            dashboard.contains(&format!("\"{}\"", event.as_str())),
            "dashboard shows {event}"
        );
    }
}

/// The dashboard and the error-rate alarm use the metrics the function writes.
#[test]
fn dashboard_and_error_rate_alarm_use_the_emitted_metrics() {
    let t = template();
    let (_, dashboard) = one(&t, "AWS::CloudWatch::Dashboard");
    let body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"][0]
        .as_str()
        .unwrap();
    for name in connect_blocklist::metrics::METRIC_NAMES {
        assert!(
            body.contains(&format!("\"{name}\"")),
            "dashboard shows {name}"
        );
    }
    let substituted = body
        .replace("${AWS::Region}", "us-east-1")
        .replace("${Namespace}", "N")
        .replace("${Fn}", "f");
    let parsed: Value = serde_json::from_str(&substituted).expect("the dashboard body is JSON");
    assert!(parsed["widgets"].as_array().unwrap().len() >= 4);

    let alarm = resource(
        &t,
        "BlocklistLookupErrorRateAlarm",
        "AWS::CloudWatch::Alarm",
    );
    let metrics = alarm["Properties"]["Metrics"].as_array().unwrap();
    let names: Vec<&str> = metrics
        .iter()
        .filter_map(|m| m["MetricStat"]["Metric"]["MetricName"].as_str())
        .collect();
    assert_eq!(names, ["LookupErrors", "LookupTimeouts", "CallsChecked"]);
    let expression = metrics
        .iter()
        .find_map(|m| m["Expression"].as_str())
        .unwrap();
    assert_eq!(expression, "100 * (errors + timeouts) / calls");
}

/// Every item the report function can put fits its role's fence: the
/// report it plans (or the block it makes at once) at a later version, and
/// the tombstone it puts when it completes an admin's unfinished approve,
/// reject or remove. A tombstone with an attribute outside the fence would
/// be refused, and the agent's report with it.
#[test]
fn what_the_report_function_puts_fits_its_fence() {
    use connect_blocklist::admin::Target;
    use connect_blocklist::admin::plan::{AutoBlock, Report, ReportPlan, auto_block, report};
    use connect_blocklist::entry::Kind;
    use connect_blocklist::store::{item_from_entry, tombstone_item};

    let t = template();
    let role = resource(&t, "ReportFunctionRole", "AWS::IAM::Role");
    let fence = |holds: bool, sid: &str| -> Vec<String> {
        let statements = statements_when(role, "ReportsCanBlock", holds);
        let statement = statements.iter().find(|s| s["Sid"] == sid).unwrap();
        as_list(&statement["Condition"]["ForAllValues:StringEquals"]["dynamodb:Attributes"])
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect()
    };
    let block = Target {
        kind: Kind::Block,
        value: "+14155550123".to_owned(),
    };
    for (block_now, sid) in [(false, "RecordReports"), (true, "BlockAtOnce")] {
        let asked = Report {
            contact_id: Some("c-1"),
            reason: Some("spam"),
            block_now,
        };
        let ReportPlan::Record(change) = report(&block, &asked, None, None, "agent", 1_800_000_000)
        else {
            panic!("nothing stored: nothing to plan");
        };
        let entry = change.at_version(7).after.unwrap();
        let tombstone = tombstone_item(entry.kind, &entry.value, 8, 1_800_000_000);
        let allowed = fence(block_now, sid);
        let mut items = vec![item_from_entry(&entry), tombstone];
        if block_now {
            // The block distinct agents' reports make by themselves.
            let rule = AutoBlock {
                threshold: 2,
                window_seconds: 3600,
                expires_seconds: 86_400,
            };
            let agents = ["agent:a".to_owned(), "agent:b".to_owned()];
            let made = auto_block(&block, &entry, &agents, &rule, None, 1_800_000_000);
            items.push(item_from_entry(&made.unwrap().after.unwrap()));
        }
        for item in items {
            for name in item.keys() {
                assert!(allowed.contains(name), "{sid} refuses `{name}`: {item:?}");
            }
        }
    }
}

/// The agent workspace app (issue 14) is registered only when the console's
/// address is given: at that address + /agent/, per contact, with the
/// approved origins given (none when empty), and with exactly the
/// permissions of the two workspace requests the page makes
/// (agent-app/src/agent.js), no more; and it is associated with every
/// instance.
#[test]
fn agent_app_is_registered_only_with_its_url_and_least_privilege() {
    let t = template();
    let params = &t["Parameters"];
    let pattern = |name: &str| {
        assert_eq!(params[name]["Default"], "", "{name} is optional");
        regex::Regex::new(params[name]["AllowedPattern"].as_str().unwrap()).unwrap()
    };
    let url = pattern("AgentAppUrl");
    for ok in [
        "",
        "https://blocklist.example.com",
        "https://console.example.com:8443/blocklist",
    ] {
        assert!(url.is_match(ok), "{ok:?}");
    }
    for bad in [
        "http://blocklist.example.com",
        "https://blocklist.example.com/",
        "https://blocklist.example.com/x?token=1",
        "https://blocklist.example.com/#token=1",
        "blocklist.example.com",
        "https://block list.example.com",
    ] {
        assert!(!url.is_match(bad), "{bad:?}");
    }
    let origins = pattern("AgentAppApprovedOrigins");
    for ok in [
        "",
        "https://my-instance.my.connect.aws",
        "https://a.my.connect.aws,https://b.awsapps.com",
    ] {
        assert!(origins.is_match(ok), "{ok:?}");
    }
    for bad in [
        "https://a.my.connect.aws/",
        "https://a.my.connect.aws/connect/home",
        "https://a.my.connect.aws, https://b.my.connect.aws",
        "https://a.my.connect.aws,",
        ",https://a.my.connect.aws",
        "http://a.my.connect.aws",
        "*",
    ] {
        assert!(!origins.is_match(bad), "{bad:?}");
    }
    for (condition, parameter) in [
        ("HasAgentAppUrl", "AgentAppUrl"),
        ("HasAgentAppOrigins", "AgentAppApprovedOrigins"),
    ] {
        assert_eq!(
            t["Conditions"][condition],
            json!({"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]})
        );
    }

    // Registered at its URL, or else at the deployed console; without
    // either, not at all.
    assert_eq!(
        t["Conditions"]["HasAgentApp"],
        json!({"Fn::Or": [{"Fn::Condition": "HasAgentAppUrl"}, {"Fn::Condition": "DeployConsoleFunction"}]})
    );
    let (id, app) = one(&t, "AWS::AppIntegrations::Application");
    assert_eq!(id, "AgentApplication");
    assert_eq!(app["Condition"], "HasAgentApp", "no app without a URL");
    let p = &app["Properties"];
    let stack_named = json!({"Fn::Sub": "${AWS::StackName}-agent-app"});
    assert_eq!(p["Name"], stack_named);
    assert_eq!(p["Namespace"], stack_named, "two stacks, two namespaces");
    let access_url = |url_given: bool| {
        let t = template_with(&INSTANCES, &[("HasAgentAppUrl", url_given)]);
        t["Resources"]["AgentApplication"]["Properties"]["ApplicationSourceConfig"]
            ["ExternalUrlConfig"]["AccessUrl"]
            .clone()
    };
    assert_eq!(
        access_url(true),
        json!({"Fn::Sub": "${AgentAppUrl}/agent/"})
    );
    assert_eq!(
        access_url(false),
        json!({"Fn::Sub": "https://${ConsoleApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/agent/"}),
        "the deployed console's own address"
    );
    assert_eq!(
        p["ApplicationConfig"],
        json!({"ContactHandling": {"Scope": "PER_CONTACT"}})
    );
    let with_origins = template_with(
        &INSTANCES,
        &[("CreateTables", true), ("HasAgentAppOrigins", true)],
    );
    assert_eq!(
        with_origins["Resources"]["AgentApplication"]["Properties"]["ApplicationSourceConfig"]["ExternalUrlConfig"]
            ["ApprovedOrigins"],
        json!({"Fn::Split": [",", {"Ref": "AgentAppApprovedOrigins"}]})
    );
    let without = template_with(
        &INSTANCES,
        &[("CreateTables", true), ("HasAgentAppOrigins", false)],
    );
    assert!(
        without["Resources"]["AgentApplication"]["Properties"]["ApplicationSourceConfig"]
            ["ExternalUrlConfig"]
            .get("ApprovedOrigins")
            .is_none(),
        "no approved origin when none is given"
    );

    // Least privilege: the permissions are those of the requests the page
    // makes, and the page makes only these (read from its source, so a new
    // SDK call there fails here until its permission is granted).
    let mut permissions: Vec<&str> = p["Permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    permissions.sort_unstable();
    assert_eq!(
        permissions,
        ["Contact.CustomerDetails.View", "Contact.Details.View"]
    );
    let source = std::fs::read_to_string(format!("{ROOT}/agent-app/src/agent.js")).unwrap();
    let calls: std::collections::BTreeSet<(String, String)> =
        regex::Regex::new(r"new (\w+Client)\(provider\)\.(\w+)\(")
            .unwrap()
            .captures_iter(&source)
            .map(|c| (c[1].to_owned(), c[2].to_owned()))
            .collect();
    let expected: std::collections::BTreeSet<(String, String)> = [
        // Contact.Details.View
        ("ContactClient", "getChannelType"),
        // Contact.CustomerDetails.View
        ("VoiceClient", "getInitialCustomerPhoneNumber"),
    ]
    .iter()
    .map(|(c, m)| ((*c).to_owned(), (*m).to_owned()))
    .collect();
    assert_eq!(calls, expected);
    assert_eq!(
        regex::Regex::new(r"Client\b")
            .unwrap()
            .find_iter(&source)
            .count(),
        // the two imports and the two calls above
        4,
        "the page uses the SDK clients only in the calls checked above"
    );

    // Made available in every instance, only with the app.
    let mut associated: Vec<&str> = resources_of_type(&t, "AWS::Connect::IntegrationAssociation")
        .into_iter()
        .filter(|(_, a)| a["Properties"]["IntegrationType"] == "APPLICATION")
        .map(|(_, a)| {
            assert_eq!(a["Condition"], "HasAgentApp");
            assert_eq!(
                a["Properties"]["IntegrationArn"],
                json!({"Fn::GetAtt": "AgentApplication.ApplicationArn"})
            );
            a["Properties"]["InstanceId"].as_str().unwrap()
        })
        .collect();
    associated.sort_unstable();
    assert_eq!(associated, INSTANCES);
    for output in ["AgentApplicationNamespace", "AgentApplicationArn"] {
        assert_eq!(t["Outputs"][output]["Condition"], "HasAgentApp", "{output}");
    }
    assert_eq!(
        t["Outputs"]["AgentApplicationNamespace"]["Value"],
        stack_named
    );
}
/// The template with the console deployed (DeployConsole=true) and the
/// user pool created by the stack or not.
fn console_template(create_user_pool: bool) -> Value {
    template_with(
        &INSTANCES,
        &[
            ("CreateTables", true),
            ("DeployConsoleFunction", true),
            ("CreateUserPool", create_user_pool),
        ],
    )
}

/// The console function is the arm64 Rust Lambda of the `console` binary,
/// with its own log group; its role grants the admin policy's table
/// actions and nothing more: no DeleteItem on the blocklist or the audit
/// trail (the rules table's is for the snapshot's chunks).
#[test]
fn console_role_grants_the_admin_policys_table_actions_only() {
    let t = console_template(true);
    let f = resource(&t, "ConsoleFunction", "AWS::Serverless::Function");
    assert_eq!(f["Condition"], "DeployConsoleFunction");
    assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda");
    assert_eq!(f["Metadata"]["BuildProperties"]["Binary"], "console");
    let p = &f["Properties"];
    assert_eq!(p["Runtime"], "provided.al2023");
    assert_eq!(p["Architectures"], json!(["arm64"]));
    assert_eq!(p["MemorySize"], 256);
    assert!(
        p["Timeout"].as_u64().unwrap() <= 29,
        "under the HTTP API's 30 s"
    );
    assert!(p.get("Policies").is_none(), "the role is explicit");
    assert_eq!(
        p["LoggingConfig"]["LogGroup"],
        json!({"Ref": "ConsoleLogGroup"})
    );
    let group = resource(&t, "ConsoleLogGroup", "AWS::Logs::LogGroup");
    assert_eq!(group["Condition"], "DeployConsoleFunction");
    assert_eq!(p["Role"], arn_of("ConsoleFunctionRole"));
    let role = resource(&t, "ConsoleFunctionRole", "AWS::IAM::Role");
    assert_eq!(role["Condition"], "DeployConsoleFunction");
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
    let on = |table: &str, actions: &[&str]| {
        actions
            .iter()
            .map(|a| (a.to_string(), arn_of(table)))
            .collect::<Vec<_>>()
    };
    let read_write = [
        "dynamodb:BatchGetItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Scan",
    ];
    let mut expected = on(TABLE, &read_write);
    expected.extend(on(AUDIT_TABLE, &["dynamodb:PutItem", "dynamodb:Query"]));
    expected.extend(on(RULES_TABLE, &read_write));
    expected.extend(on(RULES_TABLE, &["dynamodb:DeleteItem"]));
    for table in [TABLE, RULES_TABLE] {
        expected.push(("dynamodb:Query".to_owned(), index_arn_of(table)));
    }
    expected.extend(on(
        "ConsoleLogGroup",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
    ));
    expected.sort_by_key(|(a, r)| (a.clone(), r.to_string()));
    let granted = grants(&role_statements(role));
    assert_eq!(granted, expected);
    for table in [TABLE, AUDIT_TABLE] {
        assert!(
            !granted
                .iter()
                .any(|(a, r)| a == "dynamodb:DeleteItem" && *r == arn_of(table)),
            "no DeleteItem on {table}"
        );
    }
    let env = p["Environment"]["Variables"].as_object().unwrap();
    for (var, table) in [
        ("TABLE_NAME", TABLE),
        ("RULES_TABLE_NAME", RULES_TABLE),
        ("AUDIT_TABLE_NAME", AUDIT_TABLE),
    ] {
        assert_eq!(env[var], json!({"Ref": table}), "{var}");
    }
    // Reports made from the console follow the report function's policy.
    let report = resource(&t, "ReportFunction", "AWS::Serverless::Function");
    let report_env = report["Properties"]["Environment"]["Variables"]
        .as_object()
        .unwrap();
    for (var, value) in report_env.iter().filter(|(k, _)| k.starts_with("REPORTS_")) {
        assert_eq!(&env[var], value, "{var}");
    }
}

/// The console's page and files: the only routes without a token.
const OPEN_CONSOLE_ROUTES: [&str; 8] = [
    "GET /",
    "GET /agent",
    "GET /agent/",
    "GET /agent/agent.css",
    "GET /agent/agent.js",
    "GET /app.css",
    "GET /app.js",
    "GET /config.json",
];

/// `{"Fn::Sub": "https://${ConsoleApi}.execute-api..."}`: the API's own
/// address, as the ConsoleUrl output gives it.
fn console_api_address() -> Value {
    json!({"Fn::Sub": "https://${ConsoleApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"})
}

/// Every route of the console's API goes to the function through the one
/// integration; the page's files (GET only) are open, and every other
/// route (the API calls under /api/) needs a JWT the authorizer verified.
#[test]
fn console_api_needs_the_jwt_on_every_route_but_the_pages_files() {
    let t = console_template(true);
    assert!(
        resources_of_type(&t, "AWS::Serverless::HttpApi").is_empty(),
        "the API is written out: SAM's HttpApi puts the authorizer inside it"
    );
    let f = resource(&t, "ConsoleFunction", "AWS::Serverless::Function");
    assert!(
        f["Properties"].get("Events").is_none(),
        "no SAM-made routes"
    );
    let api = resource(&t, "ConsoleApi", "AWS::ApiGatewayV2::Api");
    assert_eq!(api["Condition"], "DeployConsoleFunction");
    assert_eq!(api["Properties"]["ProtocolType"], "HTTP");
    let stage = resource(&t, "ConsoleApiStage", "AWS::ApiGatewayV2::Stage");
    assert_eq!(stage["Properties"]["StageName"], "$default");
    assert_eq!(stage["Properties"]["AutoDeploy"], true);
    let integration = resource(&t, "ConsoleIntegration", "AWS::ApiGatewayV2::Integration");
    assert_eq!(integration["Properties"]["IntegrationType"], "AWS_PROXY");
    assert_eq!(
        integration["Properties"]["IntegrationUri"],
        arn_of("ConsoleFunction")
    );
    // The event format src/console/lambda.rs reads (rawPath, requestContext.http).
    assert_eq!(integration["Properties"]["PayloadFormatVersion"], "2.0");
    let mut open = Vec::new();
    let mut protected = Vec::new();
    for (id, route) in resources_of_type(&t, "AWS::ApiGatewayV2::Route") {
        assert_eq!(route["Condition"], "DeployConsoleFunction", "{id}");
        let p = &route["Properties"];
        assert_eq!(p["ApiId"], json!({"Ref": "ConsoleApi"}), "{id}");
        assert_eq!(
            p["Target"],
            json!({"Fn::Sub": "integrations/${ConsoleIntegration}"}),
            "{id}"
        );
        let key = p["RouteKey"].as_str().unwrap();
        if OPEN_CONSOLE_ROUTES.contains(&key) {
            assert_eq!(p["AuthorizationType"], "NONE", "{id}: {key}");
            assert!(p.get("AuthorizerId").is_none(), "{id}");
            open.push(key.to_owned());
        } else {
            assert_eq!(p["AuthorizationType"], "JWT", "{id}: {key} needs the JWT");
            assert_eq!(
                p["AuthorizerId"],
                json!({"Ref": "ConsoleJwtAuthorizer"}),
                "{id}: {key}"
            );
            assert!(key.contains(" /api/"), "{id}: {key} is an API call");
            protected.push(key.to_owned());
        }
    }
    open.sort();
    assert_eq!(open, OPEN_CONSOLE_ROUTES, "each page file routed once");
    assert_eq!(protected, ["ANY /api/{proxy+}"]);
    let authorizer = resource(&t, "ConsoleJwtAuthorizer", "AWS::ApiGatewayV2::Authorizer");
    assert_eq!(authorizer["Condition"], "DeployConsoleFunction");
    let p = &authorizer["Properties"];
    assert_eq!(p["ApiId"], json!({"Ref": "ConsoleApi"}));
    assert_eq!(p["AuthorizerType"], "JWT");
    assert_eq!(
        p["IdentitySource"],
        json!(["$request.header.Authorization"])
    );
    assert_eq!(
        p["JwtConfiguration"]["Issuer"],
        json!({"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${ConsoleUserPool}"})
    );
    assert_eq!(
        p["JwtConfiguration"]["Audience"],
        json!([{"Ref": "ConsoleUserPoolClient"}])
    );
    console_parameters_and_output(&t);
}

/// What the console's API test checks besides the routes: the agent app's
/// framing, the ConsoleUrl output and the console's switch.
fn console_parameters_and_output(t: &Value) {
    let f = resource(t, "ConsoleFunction", "AWS::Serverless::Function");
    // The agent workspace's origins frame the agent app, and only they.
    assert_eq!(
        f["Properties"]["Environment"]["Variables"]["AGENT_APP_FRAME_ANCESTORS"],
        json!({"Ref": "AgentAppFrameAncestors"})
    );
    assert_eq!(t["Parameters"]["AgentAppFrameAncestors"]["Default"], "");
    assert_eq!(t["Outputs"]["ConsoleUrl"]["Value"], console_api_address());
    assert_eq!(t["Parameters"]["DeployConsole"]["Default"], "false");
    assert_eq!(
        t["Conditions"]["DeployConsoleFunction"],
        json!({"Fn::Equals": [{"Ref": "DeployConsole"}, "true"]})
    );
}

/// Only this API may invoke the console function: one permission, for
/// API Gateway, whose source is this API's execute-api ARN (any of its
/// routes; they all are the one integration), in this account and region.
#[test]
fn only_the_consoles_api_may_invoke_the_console_function() {
    let t = console_template(true);
    let permissions: Vec<_> = resources_of_type(&t, "AWS::Lambda::Permission")
        .into_iter()
        .filter(|(_, p)| p["Properties"]["FunctionName"] == arn_of("ConsoleFunction"))
        .collect();
    assert_eq!(permissions.len(), 1, "one invoke permission");
    let (id, permission) = permissions[0];
    assert_eq!(id, "ConsoleInvokePermission");
    assert_eq!(permission["Condition"], "DeployConsoleFunction");
    let p = &permission["Properties"];
    assert_eq!(p["Action"], "lambda:InvokeFunction");
    assert_eq!(p["Principal"], "apigateway.amazonaws.com");
    assert_eq!(
        p["SourceArn"],
        json!({"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ConsoleApi}/*"})
    );
}

/// The names `v` refers to: each `Ref`, the resource of each `Fn::GetAtt`,
/// and each `${Name}` or `${Name.Attribute}` of an `Fn::Sub` string but
/// the Sub's own variables and `${!Literal}`s. Parameters and pseudo
/// parameters come out too: the caller keeps the resources. Both branches
/// of an `Fn::If` are walked.
fn names_in(v: &Value, found: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (key, x) in m {
                match (key.as_str(), x) {
                    ("Ref", Value::String(name)) => {
                        found.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::String(path)) => {
                        found.insert(path.split('.').next().unwrap().to_owned());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        found.insert(parts[0].as_str().unwrap().to_owned());
                    }
                    ("Fn::Sub", Value::String(text)) => found.extend(sub_names(text)),
                    ("Fn::Sub", Value::Array(parts)) => {
                        let variables = parts[1].as_object().unwrap();
                        let text = parts[0].as_str().unwrap();
                        found.extend(
                            sub_names(text)
                                .into_iter()
                                .filter(|n| !variables.contains_key(n)),
                        );
                        names_in(&parts[1], found);
                    }
                    _ => names_in(x, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| names_in(x, found)),
        _ => {}
    }
}

/// The names an `Fn::Sub` string substitutes (`${Name}`, `${Name.Attr}`).
fn sub_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let end = after.find('}').expect("every ${ is closed");
        if !after.starts_with('!') {
            names.push(after[..end].split('.').next().unwrap().to_owned());
        }
        rest = &after[end + 1..];
    }
    names
}

/// Each resource of `t` and the resources it must follow: those its
/// properties name (Ref, GetAtt, Sub, under every condition's branches)
/// and its DependsOn, as CloudFormation orders a deploy.
fn dependency_graph(t: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let resources = t["Resources"].as_object().unwrap();
    resources
        .iter()
        .map(|(id, r)| {
            let mut names = BTreeSet::new();
            names_in(&r["Properties"], &mut names);
            for after in as_list(&r["DependsOn"]) {
                if let Some(after) = after.as_str() {
                    names.insert(after.to_owned());
                }
            }
            names.retain(|n| resources.contains_key(n));
            (id.clone(), names)
        })
        .collect()
}

/// A cycle of `graph` (its resources in order, the first repeated at the
/// end), or `None` when a deploy can order them.
fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in &graph[node] {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The value of parameter `name`: from `given`, else its default.
fn parameter_value(t: &Value, name: &str, given: &[(&str, &str)]) -> String {
    if let Some((_, value)) = given.iter().find(|(n, _)| *n == name) {
        return (*value).to_owned();
    }
    match &t["Parameters"][name]["Default"] {
        Value::String(s) => s.clone(),
        Value::Null => panic!("{name} has no default: give it"),
        other => other.to_string(),
    }
}

/// Whether the condition `c` holds for the parameters `given` (the others
/// at their defaults).
fn holds(t: &Value, c: &Value, given: &[(&str, &str)]) -> bool {
    let (function, args) = c.as_object().unwrap().iter().next().unwrap();
    let value = |v: &Value| match v {
        Value::Object(m) if m.contains_key("Ref") => {
            parameter_value(t, m["Ref"].as_str().unwrap(), given)
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let all = || args.as_array().unwrap().iter();
    match function.as_str() {
        "Fn::Equals" => value(&args[0]) == value(&args[1]),
        "Fn::Not" => !holds(t, &args[0], given),
        "Fn::And" => all().all(|x| holds(t, x, given)),
        "Fn::Or" => all().any(|x| holds(t, x, given)),
        "Fn::Condition" => holds(t, &t["Conditions"][args.as_str().unwrap()], given),
        other => panic!("a condition function the test cannot evaluate: {other}"),
    }
}

/// The template as deployed with the parameters `given` and every other at
/// its default: each condition evaluated, each `Fn::If` resolved.
fn template_deployed_with(given: &[(&str, &str)]) -> Value {
    let t = expand(&raw_template(), &INSTANCES);
    let conditions: Vec<(String, bool)> = t["Conditions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, c)| (name.clone(), holds(&t, c, given)))
        .collect();
    let conditions: Vec<(&str, bool)> = conditions.iter().map(|(n, h)| (n.as_str(), *h)).collect();
    resolve_ifs(&t, &conditions).unwrap()
}

/// Sign-in with the stack's user pool in one deploy. Its client's callback
/// is the API's own address, which needs the API before the client; so
/// nothing the API needs may need the client (SAM's HttpApi put the
/// authorizer, whose audience is the client, inside the API: a cycle, and
/// a second deploy to name the address). The whole template's references,
/// under every branch of every condition at once, have no cycle.
#[test]
fn console_sign_in_takes_one_deploy_and_the_references_have_no_cycle() {
    let graph = dependency_graph(&expand(&raw_template(), &INSTANCES));
    assert_eq!(a_cycle(&graph), None, "CloudFormation would refuse a cycle");
    assert!(graph["ConsoleApi"].is_empty(), "the API names nothing");
    for (from, to) in [
        ("ConsoleUserPoolClient", "ConsoleApi"),
        ("ConsoleFunction", "ConsoleUserPoolClient"),
        ("ConsoleIntegration", "ConsoleFunction"),
        ("ConsoleInvokePermission", "ConsoleApi"),
        ("ConsoleJwtAuthorizer", "ConsoleApi"),
        ("ConsoleJwtAuthorizer", "ConsoleUserPoolClient"),
        ("ConsoleApiRoute", "ConsoleJwtAuthorizer"),
        ("ConsoleApiRoute", "ConsoleIntegration"),
    ] {
        assert!(graph[from].contains(to), "{from} names {to}");
    }
    // The check sees the cycle an authorizer inside the API makes.
    let mut inline = graph.clone();
    inline
        .get_mut("ConsoleApi")
        .unwrap()
        .insert("ConsoleUserPoolClient".into());
    let cycle = a_cycle(&inline).expect("the API naming the client is a cycle");
    assert!(
        cycle.contains(&"ConsoleUserPoolClient".to_owned()),
        "{cycle:?}"
    );
    // Deployed with the console and nothing else given (ConsoleCallbackUrl
    // empty): the sign-in returns to the API's address.
    let t = template_deployed_with(&[
        ("DeployConsole", "true"),
        ("ConsoleUserPoolDomainPrefix", "blocklist-example"),
    ]);
    assert_eq!(t["Parameters"]["ConsoleCallbackUrl"]["Default"], "");
    let client =
        &resource(&t, "ConsoleUserPoolClient", "AWS::Cognito::UserPoolClient")["Properties"];
    assert_eq!(client["CallbackURLs"], json!([console_api_address()]));
    assert_eq!(client["AllowedOAuthFlowsUserPoolClient"], true);
    assert_eq!(client["AllowedOAuthFlows"], json!(["implicit"]));
    assert_eq!(login_url_return(&t), console_api_address());
}

/// Where the function's login URL returns to (its `redirect_uri`), which
/// must be a callback of the client; and that it is the stack's client's
/// hosted sign-in.
fn login_url_return(t: &Value) -> Value {
    let f = resource(t, "ConsoleFunction", "AWS::Serverless::Function");
    let login = &f["Properties"]["Environment"]["Variables"]["CONSOLE_LOGIN_URL"]["Fn::Sub"];
    let text = login[0].as_str().expect("a Sub with its variables");
    assert!(
        text.starts_with("https://${ConsoleUserPoolDomain}.auth.${AWS::Region}.amazoncognito.com/login?client_id=${ConsoleUserPoolClient}&response_type=token&"),
        "{text}"
    );
    assert!(text.ends_with("&redirect_uri=${ReturnTo}"), "{text}");
    login[1]["ReturnTo"].clone()
}

/// ConsoleCallbackUrl, for a domain of your own in front of the API: the
/// sign-in returns there instead, the client's one callback.
#[test]
fn a_callback_url_of_your_own_replaces_the_apis_address() {
    let mine = "https://blocklist.example.com/";
    let t = template_deployed_with(&[
        ("DeployConsole", "true"),
        ("ConsoleUserPoolDomainPrefix", "blocklist-example"),
        ("ConsoleCallbackUrl", mine),
    ]);
    let client =
        &resource(&t, "ConsoleUserPoolClient", "AWS::Cognito::UserPoolClient")["Properties"];
    assert_eq!(
        client["CallbackURLs"],
        json!([{"Ref": "ConsoleCallbackUrl"}])
    );
    assert_eq!(login_url_return(&t), json!({"Ref": "ConsoleCallbackUrl"}));
    assert_eq!(
        t["Conditions"]["HasConsoleCallbackUrl"],
        json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "ConsoleCallbackUrl"}, ""]}]})
    );
}

/// The stack's user pool has one group per role, named by the parameters
/// the function reads its groups from.
#[test]
fn console_user_pool_groups_are_the_role_parameters() {
    let t = console_template(true);
    let f = resource(&t, "ConsoleFunction", "AWS::Serverless::Function");
    let env = &f["Properties"]["Environment"]["Variables"];
    let mut named = Vec::new();
    for (_, group) in resources_of_type(&t, "AWS::Cognito::UserPoolGroup") {
        assert_eq!(group["Condition"], "CreateUserPool");
        assert_eq!(
            group["Properties"]["UserPoolId"],
            json!({"Ref": "ConsoleUserPool"})
        );
        named.push(
            group["Properties"]["GroupName"]["Ref"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    named.sort();
    assert_eq!(
        named,
        [
            "ConsoleAdminGroup",
            "ConsoleAgentGroup",
            "ConsoleSupervisorGroup"
        ]
    );
    for (var, param, default) in [
        ("CONSOLE_ADMIN_GROUP", "ConsoleAdminGroup", "admins"),
        (
            "CONSOLE_SUPERVISOR_GROUP",
            "ConsoleSupervisorGroup",
            "supervisors",
        ),
        ("CONSOLE_AGENT_GROUP", "ConsoleAgentGroup", "agents"),
    ] {
        assert_eq!(env[var], json!({"Ref": param}), "{var}");
        assert_eq!(t["Parameters"][param]["Default"], default, "{param}");
    }
    let client = resource(&t, "ConsoleUserPoolClient", "AWS::Cognito::UserPoolClient");
    assert_eq!(
        client["Properties"]["GenerateSecret"], false,
        "the page holds it"
    );
}

/// With an identity provider of your own (ConsoleIdentityIssuer), the
/// stack creates no user pool, and the authorizer trusts that issuer and
/// audience.
#[test]
fn with_an_existing_issuer_no_user_pool_is_created() {
    let t = console_template(false);
    assert_eq!(
        t["Conditions"]["CreateUserPool"],
        // (`!Condition` as this file's reader spells every short form.)
        json!({"Fn::And": [
            {"Fn::Condition": "DeployConsoleFunction"},
            {"Fn::Equals": [{"Ref": "ConsoleIdentityIssuer"}, ""]}
        ]})
    );
    let cognito: Vec<_> = t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str().unwrap().starts_with("AWS::Cognito::"))
        .collect();
    assert_eq!(cognito.len(), 6, "pool, client, domain, three groups");
    for (id, r) in cognito {
        assert_eq!(r["Condition"], "CreateUserPool", "{id}");
    }
    let jwt = &resource(&t, "ConsoleJwtAuthorizer", "AWS::ApiGatewayV2::Authorizer")["Properties"]
        ["JwtConfiguration"];
    assert_eq!(jwt["Issuer"], json!({"Ref": "ConsoleIdentityIssuer"}));
    assert_eq!(jwt["Audience"], json!([{"Ref": "ConsoleIdentityAudience"}]));
    let f = resource(&t, "ConsoleFunction", "AWS::Serverless::Function");
    assert_eq!(
        f["Properties"]["Environment"]["Variables"]["CONSOLE_LOGIN_URL"],
        json!({"Ref": "ConsoleLoginUrl"})
    );
    // Nothing deployed names the user pool that is not there.
    for (id, names) in dependency_graph(&t) {
        if t["Resources"][&id]["Condition"] == "CreateUserPool" {
            continue;
        }
        for name in names {
            let target = &t["Resources"][&name]["Condition"];
            assert_ne!(*target, "CreateUserPool", "{id} names {name}");
        }
    }
    // Nothing of the console without DeployConsole=true.
    for (id, r) in t["Resources"].as_object().unwrap() {
        if id.starts_with("Console") {
            assert!(
                ["DeployConsoleFunction", "CreateUserPool"]
                    .contains(&r["Condition"].as_str().unwrap_or("")),
                "{id} is deployed only with the console"
            );
        }
    }
}
