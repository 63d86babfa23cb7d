//! Billing views of the emulated account, computed from the charges that servers accrue
//! on the account clock at the real price list: group billing, server unit pricing and
//! estimates, the monthly invoice, and the account's month-to-date total.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::state::{State, month_key};
use certify_blueprint::PriceList;
use certify_clc::model::{
    GroupBilling, GroupBillingEntry, Invoice, InvoiceItemDetail, InvoiceLineItem, ServerBilling,
    ServerEstimate, ServerPricing, format_time,
};

/// Charges of a server that no longer exists, kept for the month's invoice and totals.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ClosedCharge {
    pub month: String,
    pub group_name: String,
    pub dc: String,
    pub server: String,
    pub amount: f64,
}

/// The billing store: what the account keeps of servers that are gone. A live server's
/// charges accrue on its own record.
#[derive(Debug, Clone, Default)]
pub(crate) struct Billing {
    pub closed_charges: Vec<ClosedCharge>,
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

impl State {
    /// `GET /v2/groups/{alias}/{id}/billing`: the group first, then every descendant.
    pub fn group_billing(&mut self, group: &str, now: DateTime<Utc>) -> Option<GroupBilling> {
        let groups: Vec<(String, String)> = self
            .groups
            .subtree(group)
            .iter()
            .map(|g| (g.id.clone(), g.name.clone()))
            .collect();
        if groups.is_empty() {
            return None;
        }
        let month = month_key(now);
        let hours_left = State::hours_left_in_month(now);
        let mut out = BTreeMap::new();
        for (gid, name) in groups {
            let ids: Vec<String> = self.servers.in_group(&gid).map(|s| s.id.clone()).collect();
            let mut servers = BTreeMap::new();
            for id in ids {
                self.servers.accrue(&id, now);
                let s = &self.servers[&id];
                let mtd = s.charges.get(&month).copied().unwrap_or(0.0);
                let hour = s.hourly();
                servers.insert(
                    id.clone(),
                    ServerBilling {
                        template_cost: 0.0,
                        archive_cost: 0.0,
                        monthly_estimate: round(mtd + hour * hours_left, 2),
                        month_to_date: round(mtd, 2),
                        current_hour: round(hour, 5),
                    },
                );
            }
            out.insert(gid, GroupBillingEntry { name, servers });
        }
        Some(GroupBilling {
            date: format_time(now),
            groups: out,
        })
    }

    /// `GET /v2/billing/{alias}/serverPricing/{id}`: hourly unit prices.
    pub fn server_pricing(&self, key: &str) -> Option<ServerPricing> {
        let s = self.servers.find(key)?;
        let prices = PriceList::default();
        let size = s.spec();
        Some(ServerPricing {
            cpu: prices.cpu_hour.as_dollars_f64(),
            memory_gb: prices.memory_gb_hour.as_dollars_f64(),
            storage_gb: round(prices.storage_gb_hour_dollars(size.storage_type), 6),
            managed_os: prices.os_licence_hour_dollars(&size.os)
                + if s.managed_os {
                    prices.managed_os_hour.as_dollars_f64()
                } else {
                    0.0
                },
        })
    }

    /// `GET /v2/billing/{alias}/estimate-server/{id}`.
    pub fn server_estimate(&mut self, key: &str, now: DateTime<Utc>) -> Option<ServerEstimate> {
        let id = self.servers.find(key)?.id.clone();
        self.servers.accrue(&id, now);
        let s = &self.servers[&id];
        let mtd = s.charges.get(&month_key(now)).copied().unwrap_or(0.0);
        let hour = s.hourly();
        Some(ServerEstimate {
            monthly_estimate: round(mtd + hour * State::hours_left_in_month(now), 2),
            month_to_date: round(mtd, 2),
            current_hour: round(hour, 5),
            previous_hour: round(hour, 5),
        })
    }

    /// Charges of the whole account in `month` (`YYYY-MM`), deleted servers included.
    pub fn account_month_total(&mut self, month: &str, now: DateTime<Utc>) -> f64 {
        let ids: Vec<String> = self.servers.keys().cloned().collect();
        for id in &ids {
            self.servers.accrue(id, now);
        }
        let live: f64 = self
            .servers
            .values()
            .filter_map(|s| s.charges.get(month))
            .sum();
        let closed: f64 = self
            .billing
            .closed_charges
            .iter()
            .filter(|c| c.month == month)
            .map(|c| c.amount)
            .sum();
        live + closed
    }

    /// `GET /v2/invoice/{alias}/{year}/{month}`: one line per server group and data center.
    pub fn invoice(&mut self, year: i32, month: u32, now: DateTime<Utc>) -> Invoice {
        let key = format!("{year:04}-{month:02}");
        let ids: Vec<String> = self.servers.keys().cloned().collect();
        for id in &ids {
            self.servers.accrue(id, now);
        }
        // (group name, dc) -> [(server, cost)]
        let mut lines: BTreeMap<(String, String), Vec<(String, f64)>> = BTreeMap::new();
        for s in self.servers.values() {
            if let Some(c) = s.charges.get(&key) {
                let group = self
                    .groups
                    .get(&s.group_id)
                    .map(|g| g.name.clone())
                    .unwrap_or_default();
                lines
                    .entry((group, s.dc.clone()))
                    .or_default()
                    .push((s.name.clone(), *c));
            }
        }
        for c in self
            .billing
            .closed_charges
            .iter()
            .filter(|c| c.month == key)
        {
            lines
                .entry((c.group_name.clone(), c.dc.clone()))
                .or_default()
                .push((c.server.clone(), c.amount));
        }
        let line_items: Vec<InvoiceLineItem> = lines
            .into_iter()
            .map(|((group, dc), servers)| {
                let total: f64 = servers.iter().map(|(_, c)| c).sum();
                InvoiceLineItem {
                    quantity: 1,
                    description: format!("Server Group: {group} - {dc}"),
                    unit_cost: round(total, 2),
                    item_total: round(total, 2),
                    service_location: dc,
                    item_details: servers
                        .into_iter()
                        .map(|(name, cost)| InvoiceItemDetail {
                            description: name,
                            cost: round(cost, 2),
                        })
                        .collect(),
                }
            })
            .collect();
        let invoice_date = chrono::NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| format_time(super::state::next_month_start(d.and_utc())))
            .unwrap_or_default();
        let _ = now.year();
        Invoice {
            id: format!("{}{year:04}{month:02}", self.account.alias),
            terms: "Net 30".into(),
            company_name: self.account.company_name.clone(),
            account_alias: self.account.alias.clone(),
            pricing_account_alias: self.account.alias.clone(),
            parent_account_alias: String::new(),
            billing_contact_email: String::new(),
            total_amount: round(line_items.iter().map(|l| l.item_total).sum(), 2),
            invoice_date,
            line_items,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use certify_clc::model::CreateServer;

    #[test]
    fn group_billing_and_invoice_agree_with_the_price_list() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 3, 10)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc();
        let mut st = State::new("CERT", "u", "p", "VA1", now);
        let group = st.groups.default_group("VA1").unwrap().id.clone();
        let req = CreateServer {
            name: "db".into(),
            group_id: group.clone(),
            source_server_id: "CENTOS-7-64-TEMPLATE".into(),
            cpu: Some(1),
            memory_gb: Some(1),
            kind: Some("standard".into()),
            ..Default::default()
        };
        st.create_server(&req, now).unwrap();
        let later = now + TimeDelta::hours(10);
        st.advance(later);
        let b = st.group_billing(&group, later).unwrap();
        let rate = 0.01 + 0.015 + 17.0 * 0.12 / 720.0;
        assert!((b.current_hour() - round(rate, 5)).abs() < 1e-9);
        assert!((b.month_to_date() - round(rate * 10.0, 2)).abs() < 1e-9);
        let inv = st.invoice(2026, 3, later);
        assert_eq!(inv.line_items.len(), 1);
        assert_eq!(
            inv.line_items[0].description,
            "Server Group: Default Group - VA1"
        );
        assert!((inv.total_amount - round(rate * 10.0, 2)).abs() < 1e-9);
        assert_eq!(st.invoice(2026, 2, later).total_amount, 0.0);
    }
}
