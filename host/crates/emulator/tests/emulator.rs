//! The Rust client driven through the certification scenarios against an in-process
//! emulator: the happy path, the same path with faults on, the API's error answers,
//! the blueprint catalog, persistence across a restart, polling discipline, and Local
//! package execution.

use std::path::Path;
use std::time::{Duration, Instant};

use certify_clc::model::*;
use certify_clc::{Client, ClientError, Credentials, Pending, PollPolicy, PowerOp, RetryPolicy};
use certify_emulator::{Emulator, ExecutionMode, FaultSpec, RunningEmulator};

const SCALE: f64 = 3000.0;

async fn start(faults: &str) -> RunningEmulator {
    Emulator::builder()
        .clock_scale(SCALE)
        .faults(FaultSpec::parse(faults).unwrap())
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client(emu: &RunningEmulator) -> Client {
    Client::builder(emu.url(), emu.credentials())
        .poll(PollPolicy::fast())
        .retry(RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(100),
        })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn create_request(group: &str, name: &str) -> CreateServer {
    CreateServer {
        name: name.into(),
        group_id: group.into(),
        source_server_id: "CENTOS-7-64-TEMPLATE".into(),
        cpu: Some(2),
        memory_gb: Some(4),
        kind: Some("standard".into()),
        ..Default::default()
    }
}

/// The certification path through the v2 API; returns the charges seen on the invoice.
async fn full_scenario(c: &Client) -> f64 {
    let info = c.login().await.unwrap();
    assert_eq!(info.account_alias, "CERT");
    let dc = info.location_alias.clone();
    let dcs = c.data_centers().await.unwrap();
    assert!(dcs.iter().any(|d| d.id == dc.to_ascii_lowercase()));
    let caps = c.deployment_capabilities(&dc).await.unwrap();
    assert!(
        caps.templates
            .iter()
            .any(|t| t.name == "CENTOS-7-64-TEMPLATE")
    );
    assert!(!caps.deployable_networks.is_empty());

    let root_id = c.root_group_id(&dc).await.unwrap();
    let root = c.group(&root_id).await.unwrap();
    assert_eq!(root.name, format!("{dc} Hardware"));
    let names: Vec<_> = root.groups.iter().map(|g| g.name.as_str()).collect();
    for expected in ["Archive", "Default Group", "Templates"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let group = c
        .create_group("certify-run", "a certification run", &root_id)
        .await
        .unwrap();

    let mut req = create_request(&group.id, "web");
    req.network_id = Some(caps.deployable_networks[0].network_id.clone());
    let queued = c.create_server(&req).await.unwrap();
    c.wait(&queued.pending).await.unwrap();
    let server = match (&queued.uuid, &queued.id) {
        (Some(uuid), _) => c.server_by_uuid(uuid).await.unwrap(),
        (None, Some(id)) => c.server(id).await.unwrap(),
        _ => unreachable!(),
    };
    assert_eq!(server.status, "active");
    assert!(
        server.name.starts_with(&format!("{dc}CERTWEB")),
        "{}",
        server.name
    );
    assert_eq!(server.id, server.name.to_ascii_lowercase());
    assert_eq!(server.power_state(), Some("started"));
    assert!(server.internal_ip().is_some());
    let by_id = c.server(&server.id).await.unwrap();
    assert_eq!(by_id.name, server.name);

    let pricing = c.server_pricing(&server.id).await.unwrap();
    assert_eq!(pricing.cpu, 0.01);
    assert_eq!(pricing.memory_gb, 0.015);

    for p in c.power(PowerOp::PowerOff, &[&server.id]).await.unwrap() {
        c.wait(&p).await.unwrap();
    }
    assert_eq!(
        c.server(&server.id).await.unwrap().power_state(),
        Some("stopped")
    );
    let again = c.power(PowerOp::PowerOff, &[&server.id]).await.unwrap();
    assert!(again.is_empty(), "already stopped: nothing to wait on");
    for p in c.power(PowerOp::PowerOn, &[&server.id]).await.unwrap() {
        c.wait(&p).await.unwrap();
    }
    assert_eq!(
        c.server(&server.id).await.unwrap().power_state(),
        Some("started")
    );

    let spec = PublicIpSpec {
        internal_ip_address: None,
        ports: vec![PortRule {
            protocol: "TCP".into(),
            port: 80,
            port_to: None,
        }],
        source_restrictions: vec![],
    };
    c.wait(&c.add_public_ip(&server.id, &spec).await.unwrap())
        .await
        .unwrap();
    let ips = c.server(&server.id).await.unwrap().public_ips();
    assert_eq!(ips.len(), 1);
    assert_eq!(
        c.public_ip(&server.id, &ips[0]).await.unwrap().ports,
        spec.ports
    );

    c.wait(
        &c.set_cpu_memory(&server.id, Some(4), Some(8))
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    let resized = c.server(&server.id).await.unwrap();
    assert_eq!(resized.details.as_ref().unwrap().cpu, 4);
    assert_eq!(resized.details.as_ref().unwrap().memory_mb, 8192);

    let billing = c.group_billing(&group.id).await.unwrap();
    assert!(billing.groups.contains_key(&group.id));
    assert!(billing.current_hour() > 0.0);
    assert!(billing.monthly_estimate() >= billing.month_to_date());
    let estimate = c.server_estimate(&server.id).await.unwrap();
    assert!(estimate.current_hour > 0.0);

    let servers = c.servers_in_group(&group.id).await.unwrap();
    assert_eq!(servers.len(), 1);

    c.wait(&c.delete_server(&server.id).await.unwrap())
        .await
        .unwrap();
    assert!(c.server(&server.id).await.unwrap_err().is_not_found());
    c.wait(&c.delete_group(&group.id).await.unwrap())
        .await
        .unwrap();
    assert!(c.group(&group.id).await.unwrap_err().is_not_found());

    // The account clock and the emulator's own clock may sit in different months when the
    // scale is high, so read the invoice of the account month the charges landed in.
    let mut total = 0.0;
    for m in 1..=12 {
        for y in [2025, 2026, 2027, 2028] {
            total += c.invoice(y, m).await.unwrap().total_amount;
        }
    }
    total
}

#[tokio::test]
async fn client_drives_the_whole_v2_scenario() {
    let emu = start("").await;
    let c = client(&emu);
    let invoiced = full_scenario(&c).await;
    assert!(invoiced >= 0.0);
    assert!(emu.month_to_date() >= 0.0);
    emu.shutdown().await;
}

#[tokio::test]
async fn client_finishes_correctly_with_faults_on() {
    let emu = start("5xx=0.2,drop=0.1,latency=0ms..3ms,seed=42").await;
    let c = client(&emu);
    full_scenario(&c).await;
    // Nothing was created twice despite lost answers: one server name was ever used.
    let log = emu.build_log("va1certweb02");
    assert!(log.is_none(), "a create was repeated blindly");
    assert!(
        emu.faults_injected() > 5,
        "only {} faults fired",
        emu.faults_injected()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn errors_are_answered_as_the_real_api_answers() {
    let emu = start("").await;

    let wrong = Client::builder(emu.url(), Credentials::new("certify", "wrong"))
        .build()
        .unwrap();
    let e = wrong.login().await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    assert_eq!(
        e.api_message(),
        Some("We didn't recognize the username or password you entered. Please try again.")
    );
    assert!(!format!("{e} {e:?}").contains("wrong\""));

    let raw = reqwest::get(format!("{}/v2/datacenters/CERT", emu.url()))
        .await
        .unwrap();
    assert_eq!(raw.status(), 401);
    let body: serde_json::Value = raw.json().await.unwrap();
    assert!(body["message"].is_string());

    let c = client(&emu);
    let e = c.server("va1certnope01").await.unwrap_err();
    assert_eq!(e.status(), Some(404));
    assert_eq!(
        e.api_message(),
        Some("The requested resource does not exist.")
    );

    let root = c.root_group_id("VA1").await.unwrap();
    let bad = CreateServer {
        name: "far-too-long-name".into(),
        group_id: root,
        source_server_id: "NO-SUCH-TEMPLATE".into(),
        cpu: Some(64),
        memory_gb: None,
        kind: Some("standard".into()),
        ..Default::default()
    };
    let e = c.create_server(&bad).await.unwrap_err();
    assert_eq!(e.status(), Some(400));
    let ms = e.model_state();
    for field in [
        "body.name",
        "body.sourceServerId",
        "body.cpu",
        "body.memoryGB",
    ] {
        assert!(ms.contains_key(field), "{field} missing from {ms:?}");
    }
    emu.shutdown().await;
}

const MANIFEST: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Manifest>
  <Metadata>
    <UUID>6f2a3c1e-1111-4222-8333-944455556666</UUID>
    <Name>Install Hello on Linux</Name>
    <Description>Serves hello on a port</Description>
  </Metadata>
  <Parameters>
    <Parameter Name="Port" Type="Numeric" Variable="HELLO_PORT" Prompt="Build" Default="8080" />
    <Parameter Name="Greeting" Type="String" Variable="HELLO_TEXT" Prompt="Build" Regex="[a-z]+" />
    <Parameter Name="Server IP" Type="String" Variable="T3.Server.IPAddress" Prompt="None" />
  </Parameters>
  <Execution>
    <Mode>Ssh</Mode>
    <Command>install.sh</Command>
    <Persistent>false</Persistent>
    <RebootOnSuccess>false</RebootOnSuccess>
  </Execution>
</Manifest>"#;

const INSTALL: &str = r#"#!/bin/sh
# $1 = port, $2 = greeting (manifest order); the address comes from the environment.
set -e
mkdir -p www
echo "$2 from $T3_SERVER_NAME" > www/index.html
cd www
nohup python3 -m http.server "$1" --bind "$T3_SERVER_IPADDRESS" >/dev/null 2>&1 &
echo "started on $T3_SERVER_IPADDRESS:$1"
"#;

fn package_dir(root: &Path) -> std::path::PathBuf {
    let dir = root.join("install-hello");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("package.manifest"), MANIFEST).unwrap();
    std::fs::write(dir.join("install.sh"), INSTALL).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.join("install.sh"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    dir
}

const PACKAGE_ID: &str = "6f2a3c1e-1111-4222-8333-944455556666";

async fn publish(c: &Client, root: &Path) {
    let up = c.upload_package_dir(&package_dir(root)).await.unwrap();
    assert_eq!(up.package_id, PACKAGE_ID);
    assert!(
        c.pending_packages()
            .await
            .unwrap()
            .iter()
            .any(|p| p.name == up.file_name)
    );
    let req = PublishPackageRequest {
        classification: 2,
        name: up.file_name.clone(),
        operating_systems: vec![],
        visibility: 2,
    };
    c.wait(&c.publish_package(&req, PACKAGE_ID).await.unwrap())
        .await
        .unwrap();
    assert!(
        c.packages(2, 2)
            .await
            .unwrap()
            .iter()
            .any(|p| p.id == PACKAGE_ID)
    );
}

fn blueprint_json() -> String {
    serde_json::json!({
        "metadata": {"name": "Hello Web", "owner": "certify", "version": "1.0", "visibility": "private", "description": "hello"},
        "execute": {},
        "tasks": [{"type": "server", "name": "HELLO", "cpu": "1", "ram": "2", "template": "UBUNTU-16-64-TEMPLATE",
                   "tasks": [{"type": "package", "uuid": PACKAGE_ID, "name": "Install Hello on Linux", "properties": {}},
                             {"type": "add_nat_ip", "ingress_ports": "80, 443"}]}]
    })
    .to_string()
}

fn deploy_request(id: u32, group: &str, greeting: &str) -> DeployBlueprintRequest {
    let nv = |n: &str, v: &str| NameValue {
        name: n.into(),
        value: v.into(),
    };
    DeployBlueprintRequest {
        id,
        location_alias: Some("VA1".into()),
        parameters: vec![
            nv("T3.BuildServerTask.Password", "Sup3rSecret!"),
            nv("T3.BuildServerTask.GroupID", group),
            nv("HELLO_TEXT", greeting),
        ],
    }
}

#[tokio::test]
async fn blueprints_publish_deploy_and_report_status() {
    let emu = start("").await;
    let c = client(&emu);
    let tmp = tempfile::tempdir().unwrap();
    publish(&c, tmp.path()).await;
    let bp = c.register_blueprint(&blueprint_json()).await.unwrap();
    assert!(
        c.blueprints(Some("hello"))
            .await
            .unwrap()
            .iter()
            .any(|b| b.id == bp.id)
    );
    assert_eq!(c.blueprint_details(bp.id).await.unwrap().name, "Hello Web");
    let params = c.blueprint_parameters(bp.id).await.unwrap();
    assert!(
        params
            .iter()
            .any(|p| p.name == "HELLO_TEXT" && p.regex == "[a-z]+")
    );
    assert!(
        params
            .iter()
            .any(|p| p.name == "T3.BuildServerTask.Password" && p.kind == 4)
    );

    let root = c.root_group_id("VA1").await.unwrap();
    let group = c.create_group("bp-run", "bp", &root).await.unwrap();

    // Parameters are validated against the manifest.
    let e = c
        .deploy_blueprint(&deploy_request(bp.id, &group.id, "Hello1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ClientError::V1 {
                status_code: 1211,
                ..
            }
        ),
        "{e}"
    );

    let pending = c
        .deploy_blueprint(&deploy_request(bp.id, &group.id, "hello"))
        .await
        .unwrap();
    let Pending::Deployment(n) = pending else {
        panic!("{pending:?}")
    };
    // The same deployment is trackable on the v2 queue.
    let v2 = Pending::Queue(format!("va1-{n}"));
    let statuses = c.wait_all(&[pending.clone(), v2]).await.unwrap();
    assert_eq!(
        statuses,
        vec![QueueStatus::Succeeded, QueueStatus::Succeeded]
    );
    let status = c.deployment_status(n).await.unwrap();
    assert_eq!(status.current_status, "Succeeded");
    assert_eq!(status.percent_complete, 100);
    assert_eq!(status.servers.len(), 1);
    let server = c.server(&status.servers[0]).await.unwrap();
    assert_eq!(server.public_ips().len(), 1);
    let log = c.build_log(&server.id).await.unwrap().join("\n");
    assert!(log.contains("Install Hello on Linux"), "{log}");
    assert!(log.contains("HELLO_TEXT = hello"), "{log}");
    let billing = c.group_billing(&group.id).await.unwrap();
    assert_eq!(billing.groups[&group.id].servers.len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn failing_and_overrunning_packages_fail_the_deployment() {
    let emu = start("fail-package=Install Hello on Linux").await;
    let c = client(&emu);
    let e = deploy_failing(&c).await;
    assert!(
        matches!(
            e,
            ClientError::OperationFailed {
                status: QueueStatus::Failed,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("exit code 1"), "{e}");
    emu.shutdown().await;

    let emu = start(&format!("slow-package={PACKAGE_ID}")).await;
    let e = deploy_failing(&client(&emu)).await;
    assert!(e.to_string().contains("5 minutes"), "{e}");
    emu.shutdown().await;
}

/// Publishes the package, registers the blueprint and deploys it into the root's
/// default group, for a deployment the emulator's faults make fail: how it failed.
async fn deploy_failing(c: &Client) -> ClientError {
    let tmp = tempfile::tempdir().unwrap();
    publish(c, tmp.path()).await;
    let bp = c.register_blueprint(&blueprint_json()).await.unwrap();
    let root = c.root_group_id("VA1").await.unwrap();
    let p = c
        .deploy_blueprint(&deploy_request(bp.id, &root_default(c, &root).await, "hi"))
        .await
        .unwrap();
    c.wait(&p).await.unwrap_err()
}

async fn root_default(c: &Client, root: &str) -> String {
    c.group(root)
        .await
        .unwrap()
        .find_by_name("Default Group")
        .unwrap()
        .id
        .clone()
}

#[tokio::test]
async fn a_restarted_emulator_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::builder()
        .clock_scale(SCALE)
        .state_dir(dir.path())
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let creds = emu.credentials();
    let c = client(&emu);
    let root = c.root_group_id("VA1").await.unwrap();
    let group = root_default(&c, &root).await;
    let q = c
        .create_server(&create_request(&group, "keep"))
        .await
        .unwrap();
    c.wait(&q.pending).await.unwrap();
    let server = c.server_by_uuid(q.uuid.as_deref().unwrap()).await.unwrap();
    let charged = emu.month_to_date();
    let time = emu.account_time();
    emu.shutdown().await;

    let emu = Emulator::builder()
        .clock_scale(SCALE)
        .state_dir(dir.path())
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(
        emu.credentials().password().expose(),
        creds.password().expose()
    );
    assert!(
        emu.account_time() >= time,
        "the account clock resumes where it stopped"
    );
    let c = client(&emu);
    let again = c.server(&server.id).await.unwrap();
    assert_eq!(again.status, "active");
    assert!(emu.month_to_date() >= charged);
    // Names keep counting: the next server with that name is number 02.
    let q = c
        .create_server(&create_request(&group, "keep"))
        .await
        .unwrap();
    c.wait(&q.pending).await.unwrap();
    let next = c.server_by_uuid(q.uuid.as_deref().unwrap()).await.unwrap();
    assert!(next.name.ends_with("KEEP02"), "{}", next.name);
    emu.shutdown().await;
}

#[tokio::test]
async fn waiting_on_many_operations_polls_each_once_per_interval() {
    let emu = Emulator::builder()
        .clock_scale(60.0)
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let interval = Duration::from_millis(100);
    let c = Client::builder(emu.url(), emu.credentials())
        .poll(PollPolicy {
            initial: interval,
            max: interval,
            factor: 1.0,
            jitter: 0.2,
            deadline: Duration::from_secs(60),
        })
        .build()
        .unwrap();
    let root = c.root_group_id("VA1").await.unwrap();
    let group = root_default(&c, &root).await;
    let mut pending = Vec::new();
    for i in 0..5 {
        let q = c
            .create_server(&create_request(&group, &format!("p{i}")))
            .await
            .unwrap();
        pending.push(q.pending);
    }
    let started = Instant::now();
    let statuses = c.wait_all(&pending).await.unwrap();
    let elapsed = started.elapsed();
    assert!(statuses.iter().all(|s| *s == QueueStatus::Succeeded));
    // Intervals are at least 80 ms (100 ms − 20% jitter): one poll per interval, plus the
    // first, is the most an operation may see.
    let allowed = (elapsed.as_millis() / 80) as u64 + 1;
    for p in &pending {
        let Pending::Queue(id) = p else { panic!() };
        let polls = emu.status_polls(id);
        assert!(
            polls >= 1 && polls <= allowed,
            "{id}: {polls} polls in {elapsed:?}"
        );
    }
    emu.shutdown().await;
}

fn have_python3() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[tokio::test]
async fn local_mode_runs_a_script_package_on_the_servers_own_loopback_address() {
    if !have_python3() {
        eprintln!("skipped: the test package serves HTTP with python3, which is not installed");
        return;
    }
    let emu = Emulator::builder()
        .clock_scale(600.0)
        .execution(ExecutionMode::Local)
        .start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let c = client(&emu);
    let tmp = tempfile::tempdir().unwrap();
    publish(&c, tmp.path()).await;
    let root = c.root_group_id("VA1").await.unwrap();
    let group = root_default(&c, &root).await;

    // Two servers, both listening on port 8080, each on its own address.
    let mut servers = Vec::new();
    for name in ["one", "two"] {
        let mut req = create_request(&group, name);
        req.source_server_id = "UBUNTU-16-64-TEMPLATE".into();
        req.packages = vec![PackageRef {
            package_id: PACKAGE_ID.into(),
            parameters: [("HELLO_TEXT".to_string(), format!("hello{name}"))]
                .into_iter()
                .collect(),
        }];
        let q = c.create_server(&req).await.unwrap();
        c.wait(&q.pending).await.unwrap();
        servers.push(c.server_by_uuid(q.uuid.as_deref().unwrap()).await.unwrap());
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    for s in &servers {
        let ip = s.internal_ip().unwrap().to_string();
        assert!(ip.starts_with("127.") && ip != "127.0.0.1", "{ip}");
        let url = format!("http://{ip}:8080/");
        let mut body = None;
        for _ in 0..100 {
            if let Ok(r) = http.get(&url).send().await
                && let Ok(t) = r.text().await
            {
                body = Some(t);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = body
            .unwrap_or_else(|| panic!("nothing listens on {url}; log: {:?}", emu.build_log(&s.id)));
        assert!(body.contains(&s.name), "{body}");
        assert!(
            emu.build_log(&s.id)
                .unwrap()
                .iter()
                .any(|l| l.contains("started on"))
        );
    }
    assert_ne!(servers[0].internal_ip(), servers[1].internal_ip());

    // Deleting a server kills its processes.
    let first = &servers[0];
    c.wait(&c.delete_server(&first.id).await.unwrap())
        .await
        .unwrap();
    let url = format!("http://{}:8080/", first.internal_ip().unwrap());
    let mut gone = false;
    for _ in 0..50 {
        if http.get(&url).send().await.is_err() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the deleted server's process still answers");
    emu.shutdown().await;
}
