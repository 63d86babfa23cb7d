//! The monthly credit around a run: price the blueprint before anything is
//! created, reserve the estimate against what is left of this month's
//! credit (refused with the numbers otherwise; the rule is the ledger's
//! [`certify_ledger::shortfall`], which `certify plan` asks too), watch the
//! run's accrued charge against its reservation while it runs, and settle
//! the reservation to the account's actual charge after teardown.

use std::time::Duration;

use certify_blueprint::{PriceList, Resource, ServerSize, StorageType, billed_hours};
use certify_bundle::Bundle;
use certify_clc::Client;
use certify_clc::model::Template;
use certify_ledger::{Ledger, Money, Month, Refusal, Reservation, ReservationRequest};

use super::events::{Event, Events};
use crate::Error;

/// What the run will cost at most.
#[derive(Debug, Clone)]
pub struct Estimate {
    /// The total.
    pub total: Money,
    /// Billed hours reserved per server.
    pub hours: u32,
    /// One line per priced item.
    pub lines: Vec<String>,
    /// Each server's size and price, item by item.
    pub servers: Vec<ServerEstimate>,
}

/// One server of the blueprint, priced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServerEstimate {
    /// Its name in the blueprint (`WEB`).
    pub name: String,
    /// What it is priced as.
    pub size: ServerSize,
    /// The server priced as a whole for the billed hours: what is reserved.
    pub cost: Money,
    /// The same, item by item (each rounded up on its own).
    pub items: Vec<(Resource, Money)>,
}

/// Price the blueprint's servers and public IPs for the run's time limit,
/// rounded up to billed hours, from the account's templates (storage) and the price list.
pub async fn estimate(
    client: &Client,
    data_center: &str,
    bundle: &Bundle,
    prices: &PriceList,
    time_limit: Duration,
) -> Result<Estimate, Error> {
    let templates = templates(client, data_center).await;
    Ok(estimate_with(&templates, bundle, prices, time_limit))
}

/// [`estimate`] with the templates given: `certify plan` prices with the
/// embedded emulator's, a run with its account's.
pub fn estimate_with(
    templates: &[Template],
    bundle: &Bundle,
    prices: &PriceList,
    time_limit: Duration,
) -> Estimate {
    let hours = billed_hours(time_limit);
    let mut total = Money::ZERO;
    let mut lines = Vec::new();
    let mut servers = Vec::new();
    for server in &bundle.blueprint.servers {
        let template_gb = storage_gb(templates, &server.template);
        let mut size = ServerSize::new(
            server.cpu,
            server.memory_gb,
            template_gb + server.additional_storage_gb(),
            StorageType::Standard,
            server.template.clone(),
        );
        size.public_ips = u32::from(server.public_ip_ports().is_some());
        let cost = prices.estimate_server(&size, hours);
        lines.push(format!(
            "server {}: {} vCPU, {} GB memory, {} GB storage, {}{} for {hours} h = {cost}",
            server.name,
            size.cpu,
            size.memory_gb,
            size.storage_gb,
            server.template,
            if size.public_ips > 0 {
                ", 1 public IP"
            } else {
                ""
            },
        ));
        total += cost;
        servers.push(ServerEstimate {
            name: server.name.clone(),
            items: prices.breakdown(&size, hours),
            size,
            cost,
        });
    }
    Estimate {
        total,
        hours,
        lines,
        servers,
    }
}

/// The data center's templates, for their storage sizes (none when the
/// account cannot say; the standard 17 GB is assumed then).
pub async fn templates(client: &Client, data_center: &str) -> Vec<Template> {
    client
        .deployment_capabilities(data_center)
        .await
        .map(|c| c.templates)
        .unwrap_or_default()
}

/// The storage a server built from `template` starts with.
pub fn storage_gb(templates: &[Template], template: &str) -> u32 {
    templates
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(template))
        .map_or(17, |t| t.storage_size_gb)
}

/// The account's own month-to-date figure (the ledger's may be lower when
/// something else spends on the account).
pub async fn account_month_to_date(client: &Client) -> Money {
    match client.account_summary().await {
        Ok(summary) => Money::from_dollars_f64(summary.month_to_date_total).unwrap_or(Money::ZERO),
        Err(e) => {
            tracing::warn!("could not read the account's month-to-date billing: {e}");
            Money::ZERO
        }
    }
}

/// Reserve the estimate, or be refused with the numbers.
pub fn reserve(
    ledger: &mut Ledger,
    account: &str,
    run_id: &str,
    estimate: &Estimate,
    credit: Money,
    account_month_to_date: Money,
    description: &str,
) -> Result<Result<Reservation, Refusal>, Error> {
    ledger
        .reserve(&ReservationRequest {
            account,
            month: Month::current(),
            run_id,
            description,
            estimate: estimate.total,
            credit,
            account_month_to_date,
        })
        .map_err(|e| Error::Other(anyhow::Error::new(e).context("reserving the run's credit")))
}

/// The run group's accrued charge this month, from the account's billing.
pub(super) async fn accrued_cost(client: &certify_clc::Client, events: &Events) -> Option<Money> {
    let group = events.group_id()?;
    let billing = client.group_billing(&group).await.ok()?;
    let total: f64 = billing
        .groups
        .values()
        .flat_map(|g| g.servers.values())
        .map(|s| s.month_to_date)
        .sum();
    let money = Money::from_dollars_f64(total).ok()?;
    events.emit(Event::Accrued(money));
    Some(money)
}

/// Settles the run's reservation to its accrued charge (the estimate when the account's
/// billing could not be read: the safe side), and closes the reservations its plugins
/// made. Returns what was settled, when the ledger took it.
pub(super) fn settle(
    ledger: &mut Ledger,
    reservation: &Reservation,
    accrued: Option<Money>,
) -> Option<Money> {
    let actual = accrued.unwrap_or(reservation.estimate);
    // The group's billing covers every server of the run, the ones plugins added too:
    // the run's reservation is settled to that total, and the plugins' own
    // reservations are closed with it.
    let settled = match ledger.settle(reservation.id, actual) {
        Ok(_) => Some(actual),
        Err(e) => {
            tracing::warn!("settling the reservation failed: {e}");
            None
        }
    };
    for extra in ledger
        .open_reservations_for_run(&reservation.run_id)
        .unwrap_or_default()
    {
        if let Err(e) = ledger.settle(extra.id, Money::ZERO) {
            tracing::warn!("settling a plugin's reservation failed: {e}");
        }
    }
    settled
}

/// Resolves when the run's accrued cost reaches its reservation.
pub(super) async fn watchdog(
    client: certify_clc::Client,
    events: Events,
    reserved: Money,
) -> String {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(accrued) = accrued_cost(&client, &events).await
            && accrued >= reserved
        {
            return format!("the run's accrued cost {accrued} reached its reservation {reserved}");
        }
    }
}
