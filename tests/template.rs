//! template.yaml: the security properties the stack promises, and that the
//! contact flow it deploys is exactly contact-flows/block-unwanted-callers.json.

use serde_json::{Map, Value, json};
use serde_yaml_ng::Value as Yaml;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PLACEHOLDER_ARN: &str = "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist";
const REPORT_PLACEHOLDER_ARN: &str =
    "arn:aws:lambda:REGION:ACCOUNT_ID:function:connect-blocklist-report";

/// template.yaml as JSON, with short-form intrinsics (`!Ref x`, `!GetAtt a.b`,
/// `!Sub s`) turned into their long forms (`{"Ref": x}`, `{"Fn::GetAtt": "a.b"}`...).
fn template() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml")).unwrap();
    to_json(serde_yaml_ng::from_str(&text).unwrap())
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
        "ConnectInstanceArn",
        "TableName",
        "DefaultCountry",
        "FailMode",
        "BlockAnonymous",
        "InvalidNumberAction",
        "LookupTimeoutMs",
        "LogPhoneNumbers",
        "LogRetentionDays",
        "DeployContactFlow",
    ] {
        assert!(params.contains_key(name), "parameter {name}");
    }
    let arn = &params["ConnectInstanceArn"];
    assert!(
        arn.get("Default").is_none(),
        "ConnectInstanceArn is required"
    );
    let pattern = regex::Regex::new(arn["AllowedPattern"].as_str().unwrap()).unwrap();
    assert!(pattern.is_match(
        "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555"
    ));
    assert!(!pattern.is_match("arn:aws:connect:us-east-1:123456789012:instance/not-an-id"));
    assert!(!pattern.is_match(
        "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555/extra"
    ));
    assert!(!pattern.is_match("*"));
    assert_eq!(params["TableName"]["Default"], "BlockedPhoneNumbers");
}

/// A table of the stack, checked for the protections every one has (kept
/// on delete and replace, on demand, point-in-time recovery, encryption,
/// deletion protection), its name from the parameter `name_parameter` and
/// its key schema; returns its properties.
fn protected_table<'a>(
    t: &'a Value,
    id: &str,
    name_parameter: &str,
    key_schema: Value,
) -> &'a Value {
    let table = resource(t, id, "AWS::DynamoDB::Table");
    assert_eq!(table["DeletionPolicy"], "Retain", "{id}");
    assert_eq!(table["UpdateReplacePolicy"], "Retain", "{id}");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST", "{id}");
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
        "{id}"
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true, "{id}");
    assert_eq!(p["DeletionProtectionEnabled"], true, "{id}");
    assert_eq!(p["TableName"], json!({"Ref": name_parameter}), "{id}");
    assert_eq!(p["KeySchema"], key_schema, "{id}");
    p
}

/// Expired entries are deleted by DynamoDB's TTL on `expiresAt`.
fn ttl_on_expires_at() -> Value {
    json!({"AttributeName": "expiresAt", "Enabled": true})
}

#[test]
fn table_is_protected() {
    let t = template();
    assert_eq!(
        resources_of_type(&t, "AWS::DynamoDB::Table").len(),
        3,
        "the blocklist, its rules and its audit trail"
    );
    let p = protected_table(
        &t,
        TABLE,
        "TableName",
        json!([{"AttributeName": "phoneNumber", "KeyType": "HASH"}]),
    );
    assert_eq!(
        p["AttributeDefinitions"],
        json!([{"AttributeName": "phoneNumber", "AttributeType": "S"}])
    );
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
    // The blocklist and rules tables: the same read-write actions, and no
    // batch writes (each write is conditional on the version it read).
    let read_write = ["BatchGetItem", "DeleteItem", "GetItem", "PutItem", "Scan"];
    let mut expected = on(TABLE, &read_write);
    // The audit trail: appended and read, never changed.
    expected.extend(on(AUDIT_TABLE, &["PutItem", "Query"]));
    expected.extend(on(RULES_TABLE, &read_write));
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

#[test]
fn connect_permissions_are_scoped_to_the_instance() {
    let t = template();
    let permissions = resources_of_type(&t, "AWS::Lambda::Permission");
    assert_eq!(permissions.len(), 2, "the lookup and the report function");
    let mut functions = Vec::new();
    for (_, perm) in permissions {
        let p = &perm["Properties"];
        assert_eq!(p["Principal"], "connect.amazonaws.com");
        assert_eq!(p["Action"], "lambda:InvokeFunction");
        assert_eq!(p["SourceArn"], json!({"Ref": "ConnectInstanceArn"}));
        assert_eq!(p["SourceAccount"], json!({"Ref": "AWS::AccountId"}));
        functions.push(p["FunctionName"]["Fn::GetAtt"].as_str().unwrap().to_owned());
    }
    functions.sort();
    assert_eq!(functions, ["BlocklistFunction.Arn", "ReportFunction.Arn"]);
    for (_, assoc) in resources_of_type(&t, "AWS::Connect::IntegrationAssociation") {
        assert_eq!(assoc["Properties"]["IntegrationType"], "LAMBDA_FUNCTION");
        assert_eq!(
            assoc["Properties"]["InstanceId"],
            json!({"Ref": "ConnectInstanceArn"})
        );
    }
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
const REPORT_ATTRIBUTES: [&str; 7] = [
    "phoneNumber",
    "reason",
    "createdAt",
    "createdBy",
    "status",
    "contactId",
    "version",
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
    let role = resource(&t, "ReportFunctionRole", "AWS::IAM::Role");
    assert!(role["Properties"].get("ManagedPolicyArns").is_none());
    let fenced = statements_when(role, "ReportsBlockNow", false);
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
            ("dynamodb:DeleteItem", TABLE),
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
    let at_once = statements_when(role, "ReportsBlockNow", true);
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
            statements.extend(statements_when(role, "ReportsBlockNow", holds));
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
        "ReportCallerFlowArn",
        "DashboardName",
        "ContactFlowArn",
    ] {
        assert!(outputs.contains_key(name), "output {name}");
    }
    assert_eq!(outputs["ContactFlowArn"]["Condition"], "DeployFlow");
}

/// One source of truth: each flow the template deploys is its file's flow,
/// with only the placeholder Lambda ARN filled in.
#[test]
fn deployed_flows_are_the_contact_flows_files() {
    let t = template();
    for (id, file, kind, placeholder, arn) in [
        (
            "BlockUnwantedCallersFlow",
            "block-unwanted-callers.json",
            "CONTACT_FLOW",
            PLACEHOLDER_ARN,
            "${BlocklistFunction.Arn}",
        ),
        (
            "ReportCallerFlow",
            "report-caller.json",
            "QUEUE_TRANSFER",
            REPORT_PLACEHOLDER_ARN,
            "${ReportFunction.Arn}",
        ),
    ] {
        let flow = resource(&t, id, "AWS::Connect::ContactFlow");
        assert_eq!(flow["Condition"], "DeployFlow");
        assert_eq!(flow["Properties"]["Type"], kind);
        let content = flow["Properties"]["Content"]["Fn::Sub"]
            .as_str()
            .expect("Content is !Sub of the flow");
        assert_eq!(
            content.matches("${").count(),
            content.matches(arn).count(),
            "the only substitution is the ARN"
        );
        assert!(content.contains(arn));
        let deployed: Value = serde_json::from_str(&content.replace(arn, placeholder)).unwrap();
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(format!("{ROOT}/contact-flows/{file}")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            deployed, file,
            "template.yaml's {id} drifted from {file}: run scripts/sync-template-flow.py"
        );
    }
}

/// The hit-count grant is limited to blockCount and lastBlockedAt (and the
/// keys) by a `dynamodb:Attributes` condition, and returns nothing.
#[test]
fn hit_count_grant_is_limited_to_its_attributes() {
    let t = template();
    let role = resource(&t, "BlocklistFunctionRole", "AWS::IAM::Role");
    let statements: Vec<&Value> = role["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap())
        .filter(|s| as_list(&s["Action"]).contains(&json!("dynamodb:UpdateItem")))
        .collect();
    assert_eq!(statements.len(), 1);
    let condition = &statements[0]["Condition"];
    let mut attributes: Vec<&str> = condition["ForAllValues:StringEquals"]["dynamodb:Attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        ["blockCount", "lastBlockedAt", "phoneNumber", "ruleKey"]
    );
    assert_eq!(
        condition["StringEqualsIfExists"]["dynamodb:ReturnValues"],
        "NONE"
    );
    assert_eq!(
        as_list(&statements[0]["Action"]).len(),
        1,
        "UpdateItem alone"
    );
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
