//! Demo data for `portal demo`: about sixty customers with tags, tenants and account managers,
//! and one staff user per role. Seeding is idempotent: what exists already is left alone.

use crate::simulator::{self, SimulatedCustomer, Simulator, SimulatorData, SimulatorOptions};
use app::{
    error::AppError,
    model::Role,
    ssr::{
        auth,
        db::now_millis,
        partner_center::{
            wire::{Attributes, CompanyProfile, Customer, ProductSku, SubscribedSku, Subscription},
            PartnerCenterConfig, Secret,
        },
        store::{self, fold},
        AppState,
    },
};

pub const CUSTOMER_NAMES: [&str; 60] = [
    "Alder Creek Dental",
    "Alpine Ridge Logistics",
    "Amberfield Accounting",
    "Bayview Veterinary Clinic",
    "Beacon Hill Architects",
    "Birchwood Primary School",
    "Blue Harbor Seafood",
    "Brightline Solar",
    "Cascade Legal Partners",
    "Cedar & Stone Builders",
    "Clearwater Physiotherapy",
    "Cobalt Engineering",
    "Copperleaf Hotels",
    "Crestview Insurance Brokers",
    "Driftwood Marketing",
    "Eastgate Pharmacy",
    "Elmstead Property Management",
    "Evergreen Landscaping",
    "Fairway Golf Club",
    "Falcon Freight",
    "Foxglove Florists",
    "Granite Peak Outdoor",
    "Greenway Recycling",
    "Harborline Shipping",
    "Hawthorne Family Practice",
    "Highland Brewing Co.",
    "Horizon Travel Group",
    "Ironbridge Manufacturing",
    "Juniper Health Foods",
    "Keystone Credit Union",
    "Lakeside Community Trust",
    "Larkspur Design Studio",
    "Lighthouse Charity Foundation",
    "Maple Grove Dairy",
    "Meridian Consulting",
    "Millbrook Bakery",
    "Northwind Traders",
    "Oakridge Financial Advisors",
    "Orchard Lane Nursery",
    "Pinecrest Retirement Living",
    "Quarry Hill Stone",
    "Redwood Analytics",
    "Riverside Medical Group",
    "Rosewood Interiors",
    "Saffron Kitchen Group",
    "Sandstone Realty",
    "Silverline Telecom",
    "Skyward Aviation Services",
    "Southbank Theatre",
    "Spruce Street Coffee",
    "Starling Education Trust",
    "Summit Sports Clinic",
    "Thistle & Co. Solicitors",
    "Tidewater Marine",
    "Timberline Construction",
    "Union Square Dental",
    "Valley View Farms",
    "Westbrook Auto Group",
    "Willow Tree Pediatrics",
    "Zephyr Wind Energy",
];

/// A second customer whose name differs from a first one's only by its legal suffix, as
/// duplicates in real portals do: the demo's ambiguous suggestion. (name, primary domain)
pub const DUPLICATE_CUSTOMER: (&str, &str) = ("Tidewater Marine Ltd", "tidewatermarine.co.uk");

/// Tenants the demo's Partner Center lists that no portal customer holds yet: what a partner
/// finds on `/provider` when the portal is new. (company name, default domain)
pub const DEMO_UNLINKED: [(&str, &str); 23] = [
    // No customer looks like these: new customers, or linked to one by hand.
    ("Aspenwood Dental Lab", "aspenwooddental.onmicrosoft.com"),
    ("Bramble & Finch Bakery", "brambleandfinch.onmicrosoft.com"),
    ("Canyon Ridge Veterinary", "canyonridgevet.onmicrosoft.com"),
    ("Dovetail Joinery", "dovetailjoinery.onmicrosoft.com"),
    ("Emberline Fitness", "emberlinefitness.onmicrosoft.com"),
    ("Fernhill Optometry", "fernhilloptometry.onmicrosoft.com"),
    (
        "Glasshouse Coffee Roasters",
        "glasshousecoffee.onmicrosoft.com",
    ),
    ("Heronsgate Legal", "heronsgatelegal.onmicrosoft.com"),
    ("Inkwell Print Co", "inkwellprint.onmicrosoft.com"),
    ("Jasper Lane Realty", "jasperlanerealty.onmicrosoft.com"),
    ("Kestrel Security", "kestrelsecurity.onmicrosoft.com"),
    ("Lanternfish Studios", "lanternfishstudios.onmicrosoft.com"),
    ("Marigold Home Care", "marigoldhomecare.onmicrosoft.com"),
    ("Nettlebed Farm Shop", "nettlebedfarmshop.onmicrosoft.com"),
    ("Otter Creek Outfitters", "ottercreek.onmicrosoft.com"),
    ("Parsnip & Pea Catering", "parsnipandpea.onmicrosoft.com"),
    // Clear suggestions: the tenant's domain is a customer's primary domain (high)...
    ("Driftwood Marketing EU", "driftwood-marketing.com"),
    ("Eastgate Pharmacy (Online Store)", "eastgate-pharmacy.com"),
    (
        "Saffron Kitchen Group - Catering",
        "saffron-kitchen-group.com",
    ),
    // ...or its company name is a customer's, legal suffix aside (medium).
    (
        "Meridian Consulting GmbH",
        "meridianconsultingde.onmicrosoft.com",
    ),
    (
        "Redwood Analytics, Inc.",
        "redwoodanalyticsus.onmicrosoft.com",
    ),
    ("Silverline Telecom Ltd", "silverlineuk.onmicrosoft.com"),
    // Two customers have this name, legal suffix aside: a person decides.
    (
        "Tidewater Marine, Inc.",
        "tidewatermarineinc.onmicrosoft.com",
    ),
];

/// The tenant id of the n-th of [`DEMO_UNLINKED`].
pub fn demo_unlinked_tenant_id(n: usize) -> String {
    demo_tenant_id(10_000 + n as u64)
}

const REGIONS: [&str; 4] = ["North", "South", "East", "West"];
const SEGMENTS: [&str; 4] = ["SMB", "Enterprise", "Education", "Nonprofit"];

const ACCOUNT_MANAGERS: [(&str, &str, &str); 6] = [
    ("Priya Raman", "priya.raman@partner.example", "+1 555 0101"),
    ("Tom Becker", "tom.becker@partner.example", "+1 555 0102"),
    (
        "Sofia García",
        "sofia.garcia@partner.example",
        "+1 555 0103",
    ),
    (
        "James O'Connor",
        "james.oconnor@partner.example",
        "+1 555 0104",
    ),
    ("Mei Lin", "mei.lin@partner.example", "+1 555 0105"),
    (
        "Daniel Okafor",
        "daniel.okafor@partner.example",
        "+1 555 0106",
    ),
];

/// The demo sign-ins: (e-mail, password, role). They exist only in databases seeded by `demo`.
pub const DEMO_STAFF: [(&str, &str, Role); 4] = [
    ("admin@demo.test", "demo-admin", Role::Admin),
    ("reader@demo.test", "demo-reader", Role::Reader),
    ("finance@demo.test", "demo-finance", Role::Finance),
    ("helpdesk@demo.test", "demo-helpdesk", Role::Helpdesk),
];

/// The tag pair whose customers the demo Help Desk user sees.
pub const HELPDESK_SCOPE: (&str, &str) = ("Region", "North");

/// `alder-creek-dental` from `Alder Creek Dental`.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for word in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "Co")
    {
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

/// A stable, GUID-shaped tenant id for the n-th demo tenant.
pub fn demo_tenant_id(n: u64) -> String {
    let mut x = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

/// Seeds the demo data; returns how many customers were added (0 when already seeded).
pub async fn seed(state: &AppState) -> Result<usize, AppError> {
    let pool = state.db.pool();
    let now = now_millis();

    for (email, password, role) in DEMO_STAFF {
        let exists = store::staff::find_by_email(&mut *pool.acquire().await?, email)
            .await?
            .is_some();
        if !exists {
            let name = format!("Demo {}", role.label());
            let id = auth::create_staff(state, email, &name, role, password.to_owned()).await?;
            if role == Role::Helpdesk {
                let (tag, value) = HELPDESK_SCOPE;
                store::staff::add_tag_scope(&mut *pool.acquire().await?, id, &fold(tag), value)
                    .await?;
            }
        }
    }

    let mut tx = state.db.begin_write().await?;
    let mut manager_ids = Vec::new();
    for (name, email, phone) in ACCOUNT_MANAGERS {
        let id = match store::account_managers::find_by_email(&mut tx, email).await? {
            Some(m) => m.id,
            None => store::account_managers::insert(&mut tx, name, email, phone, now).await?,
        };
        manager_ids.push(id);
    }

    let mut added = 0;
    let mut new_customers = Vec::new();
    for (i, name) in CUSTOMER_NAMES.iter().enumerate() {
        let slug = slug(name);
        let domain = format!("{slug}.com");
        if store::customers::find_by_domain(&mut tx, &domain)
            .await?
            .is_some()
        {
            continue;
        }
        let id = store::customers::insert(&mut tx, name, &domain, now).await?;
        let mut tags = vec![
            ("Region", REGIONS[i % 4]),
            ("Segment", SEGMENTS[(i / 4) % 4]),
        ];
        if i % 3 == 0 {
            tags.push(("Tier", "Gold"));
        }
        for (tag, value) in tags {
            store::tags::insert(&mut tx, id, tag, &fold(tag), value, now).await?;
        }
        // Most customers have one manager, every seventh a second one, every eleventh none.
        if i % 11 != 5 {
            store::account_managers::assign(&mut tx, id, manager_ids[i % 6], now).await?;
            if i % 7 == 0 {
                store::account_managers::assign(&mut tx, id, manager_ids[(i + 1) % 6], now).await?;
            }
        }
        let tenant_count = if i % 5 == 0 { 2 } else { 1 };
        for t in 0..tenant_count {
            let tenant_id = demo_tenant_id((i * 2 + t) as u64);
            let (tenant_name, tenant_domain) = if t == 0 {
                (
                    name.to_string(),
                    format!("{}.onmicrosoft.com", slug.replace('-', "")),
                )
            } else {
                (
                    format!("{name} (Subsidiary)"),
                    format!("{}sub.onmicrosoft.com", slug.replace('-', "")),
                )
            };
            store::customers::insert_tenant(
                &mut tx,
                id,
                &tenant_id,
                &tenant_name,
                &tenant_domain,
                now,
            )
            .await?;
        }
        added += 1;
        new_customers.push((i, id));
    }
    let (name, domain) = DUPLICATE_CUSTOMER;
    if store::customers::find_by_domain(&mut tx, domain)
        .await?
        .is_none()
    {
        store::customers::insert(&mut tx, name, domain, now).await?;
        added += 1;
    }
    tx.commit().await?;
    seed_overrides(state, &new_customers).await?;
    Ok(added)
}

/// Some customers override some settings, as real ones do, so the override matrix and the
/// histories have something to show. Made through the service as the demo admin, so each one
/// is audited like any change; only for customers added by this run (idempotent).
const DEMO_OVERRIDES: [(usize, &str, &str); 9] = [
    (20, "billing.markup_percent", "12.5"),
    (27, "billing.markup_percent", "10"),
    (41, "billing.markup_percent", "18"),
    (22, "billing.cycle", "annual"),
    (44, "billing.cycle", "quarterly"),
    (25, "portal.language", "de"),
    (29, "commerce.seat_limit_applicable", "true"),
    (29, "commerce.seat_limit", "-1"),
    (33, "usage.suspend_on_danger_threshold", "true"),
];

async fn seed_overrides(state: &AppState, new_customers: &[(usize, i64)]) -> Result<(), AppError> {
    let Some(admin) =
        store::staff::find_by_email(&mut *state.db.pool().acquire().await?, DEMO_STAFF[0].0)
            .await?
            .map(|c| c.staff)
    else {
        return Ok(());
    };
    for (index, key, value) in DEMO_OVERRIDES {
        if let Some((_, id)) = new_customers.iter().find(|(i, _)| *i == index) {
            app::ssr::service::configuration::save_override(&state.db, &admin, *id, key, value, 0)
                .await?;
        }
    }
    Ok(())
}

/// Licensed offers the demo tenants buy: (offer name, offer id, SKU part number).
const DEMO_OFFERS: [(&str, &str, &str); 4] = [
    (
        "Microsoft 365 Business Standard",
        "CFQ7TTC0LDPB",
        "O365_BUSINESS_PREMIUM",
    ),
    ("Microsoft 365 E3", "CFQ7TTC0LFLX", "SPE_E3"),
    (
        "Exchange Online (Plan 1)",
        "CFQ7TTC0LH16",
        "EXCHANGESTANDARD",
    ),
    (
        "Microsoft Teams Essentials",
        "CFQ7TTC0QW5P",
        "TEAMS_ESSENTIALS",
    ),
];

/// A commitment end `days` from today, as Partner Center writes it.
fn commitment_end(days: i64) -> String {
    let day = app::ssr::db::now_millis() / 86_400_000 + days;
    let date = app::model::rfc3339(day * 86_400_000);
    format!("{}T00:00:00Z", &date[..10])
}

/// A subscription id as Partner Center writes them (a GUID), made from the tenant's id and the
/// subscription's number so that every run of the demo gives the same ones.
fn subscription_id(tenant_id: &str, n: u64) -> String {
    format!("{}{:012x}", &tenant_id[..24], 0x5ab0_0000_0000 + n)
}

/// What the demo's Partner Center knows: one entry per demo tenant, with two or three licensed
/// subscriptions (every third tenant also an Azure plan) and license counts, some of them
/// over-assigned as in real life.
pub fn simulator_data(tenants: &[(String, String, String)]) -> SimulatorData {
    let customers = tenants
        .iter()
        .enumerate()
        .map(|(n, (tenant_id, name, domain))| {
            let offers = 2 + n % 2;
            let mut subscriptions = Vec::new();
            let mut skus = Vec::new();
            for k in 0..offers {
                let (offer_name, offer_id, part) = DEMO_OFFERS[(n + k) % DEMO_OFFERS.len()];
                let quantity = 5 + ((n * 7 + k * 11) % 40) as i64;
                let consumed = quantity - (n % 4) as i64 + if n % 9 == 0 { 2 } else { 0 };
                let annual = (n + k) % 3 == 0;
                subscriptions.push(Subscription {
                    id: subscription_id(tenant_id, k as u64),
                    offer_id: format!("{offer_id}:0001"),
                    offer_name: offer_name.to_owned(),
                    friendly_name: offer_name.to_owned(),
                    quantity,
                    unit_type: "Licenses".into(),
                    creation_date: "2025-03-01T00:00:00Z".into(),
                    effective_start_date: "2025-03-01T00:00:00Z".into(),
                    // Annual commitments end spread over the next months (some within the
                    // renewal reminder); monthly ones at the end of this month.
                    commitment_end_date: commitment_end(if annual {
                        5 + ((n * 13 + k * 7) % 120) as i64
                    } else {
                        30
                    }),
                    status: if (n + k) % 6 == 5 {
                        "suspended"
                    } else {
                        "active"
                    }
                    .into(),
                    auto_renew_enabled: true,
                    billing_type: "license".into(),
                    billing_cycle: if annual { "annual" } else { "monthly" }.into(),
                    term_duration: if annual { "P1Y" } else { "P1M" }.into(),
                    is_trial: false,
                    order_id: format!("order-{n}-{k}"),
                    attributes: Attributes::of("Subscription"),
                });
                skus.push(SubscribedSku {
                    total_units: quantity,
                    active_units: quantity,
                    consumed_units: consumed,
                    available_units: quantity - consumed,
                    suspended_units: 0,
                    warning_units: 0,
                    capability_status: "Enabled".into(),
                    product_sku: ProductSku {
                        id: format!("sku-{part}"),
                        name: offer_name.to_owned(),
                        sku_part_number: part.to_owned(),
                        target_type: "User".into(),
                        license_group_id: String::new(),
                    },
                    attributes: Attributes::of("SubscribedSku"),
                });
            }
            if n % 3 == 0 {
                subscriptions.push(Subscription {
                    id: subscription_id(tenant_id, 0xa2),
                    offer_id: "DZH318Z0BPS6:0001".into(),
                    offer_name: "Azure plan".into(),
                    friendly_name: "Azure plan".into(),
                    quantity: 1,
                    unit_type: "Usage-based".into(),
                    creation_date: "2025-03-01T00:00:00Z".into(),
                    effective_start_date: "2025-03-01T00:00:00Z".into(),
                    commitment_end_date: String::new(),
                    status: "active".into(),
                    auto_renew_enabled: false,
                    billing_type: "usage".into(),
                    billing_cycle: "none".into(),
                    term_duration: String::new(),
                    is_trial: false,
                    order_id: format!("order-{n}-azure"),
                    attributes: Attributes::of("Subscription"),
                });
            }
            SimulatedCustomer {
                customer: Customer {
                    id: tenant_id.clone(),
                    commerce_id: format!("commerce-{n}"),
                    company_profile: CompanyProfile {
                        tenant_id: tenant_id.clone(),
                        domain: domain.clone(),
                        company_name: name.clone(),
                    },
                    billing_profile: Default::default(),
                    relationship_to_partner: "reseller".into(),
                    allow_delegated_access: true,
                    attributes: Attributes::of("Customer"),
                },
                subscriptions,
                subscribed_skus: skus,
            }
        })
        .collect();
    SimulatorData { customers }
}

/// Starts the simulator on a free loopback port with the demo tenants, and returns the client
/// configuration that points at it.
pub async fn start_simulator(
    state: &AppState,
) -> Result<
    (PartnerCenterConfig, tokio::task::JoinHandle<()>),
    Box<dyn std::error::Error + Send + Sync>,
> {
    // The tenants of the demo customers (linked now or before), then the ones not linked yet.
    let mut tenants: Vec<(String, String, String)> =
        sqlx::query_as("SELECT tenant_id, name, domain FROM tenants ORDER BY id")
            .fetch_all(state.db.pool())
            .await?;
    for (n, (name, domain)) in DEMO_UNLINKED.iter().enumerate() {
        let tenant_id = demo_unlinked_tenant_id(n);
        if !tenants.iter().any(|(id, ..)| *id == tenant_id) {
            tenants.push((tenant_id, (*name).to_owned(), (*domain).to_owned()));
        }
    }
    let data = simulator_data(&tenants);
    seed_billed(state, &data).await?;
    let options = SimulatorOptions::default();
    let simulator = Simulator::new(data, options.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, simulator::router(simulator)).await {
            tracing::error!(error = %e, "the demo's partner center simulator stopped");
        }
    });
    let mut config = PartnerCenterConfig::new(
        &format!("http://{addr}"),
        &format!("http://{addr}/demo-partner.example/oauth2/token"),
        &options.client_id,
        Secret::new(options.client_secret),
    );
    // The demo partner has given delegated consent: licence counts are read.
    config.refresh_token = Some(Secret::new(options.refresh_token));
    tracing::info!(%addr, tenants = tenants.len(), "demo partner center simulator serving");
    Ok((config, task))
}

/// The demo's billed record: for each linked customer without one yet, its Partner Center
/// subscriptions adopted, then a few differences planted the way they happen, so the License
/// Reconciliation has something to show for every kind:
/// - the first subscription billed two fewer, one more, or on another billing cycle;
/// - the second not billed at all;
/// - a third (where there is one) with auto-renew or the term recorded otherwise, or
///   suspended in billing while active in Partner Center;
/// - every fourth customer billed for a product Partner Center does not have;
/// - every ninth with the first subscription billed twice.
///
/// (Licence counts above or below the bought and billed quantities come from the data itself.)
async fn seed_billed(
    state: &AppState,
    data: &SimulatorData,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    use app::ssr::{reconcile::adopted, store::billed::BilledFields};
    let by_tenant: std::collections::HashMap<&str, &SimulatedCustomer> = data
        .customers
        .iter()
        .map(|c| (c.customer.id.as_str(), c))
        .collect();
    let mut tx = state.db.begin_write().await?;
    let customers: Vec<i64> = sqlx::query_scalar(
        "SELECT c.id FROM customers c WHERE c.deleted_at IS NULL
             AND EXISTS (SELECT 1 FROM tenants t WHERE t.customer_id = c.id AND t.unlinked_at IS NULL)
             AND NOT EXISTS (SELECT 1 FROM billed_subscriptions b WHERE b.customer_id = c.id)
         ORDER BY c.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let now = now_millis();
    let by = DEMO_STAFF[0].0;
    for (i, customer_id) in customers.into_iter().enumerate() {
        let tenants: Vec<String> = sqlx::query_scalar(
            "SELECT tenant_id FROM tenants WHERE customer_id = $1 AND unlinked_at IS NULL ORDER BY tenant_id",
        )
        .bind(customer_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut subscriptions: Vec<app::model::PcSubscription> = tenants
            .iter()
            .filter_map(|t| by_tenant.get(t.as_str()))
            .flat_map(|c| {
                c.subscriptions.iter().map(|s| app::model::PcSubscription {
                    id: s.id.clone(),
                    tenant_id: c.customer.id.clone(),
                    offer_id: s.offer_id.clone(),
                    offer_name: s.offer_name.clone(),
                    quantity: s.quantity,
                    status: s.status.clone(),
                    billing_cycle: s.billing_cycle.clone(),
                    term: s.term_duration.clone(),
                    auto_renew: s.auto_renew_enabled,
                    is_trial: s.is_trial,
                    commitment_end: s.commitment_end_date.clone(),
                })
            })
            .collect();
        subscriptions.sort_by(|a, b| a.id.cmp(&b.id));
        for (k, sub) in subscriptions.iter().enumerate() {
            let mut row = BilledFields::of(&adopted(sub));
            match k {
                0 => match i % 3 {
                    0 => row.quantity = (row.quantity - 2).max(0),
                    1 => row.quantity += 1,
                    _ => {
                        row.billing_cycle = Some(
                            if sub.billing_cycle == "annual" {
                                "monthly"
                            } else {
                                "annual"
                            }
                            .into(),
                        )
                    }
                },
                1 => continue,
                _ => match i % 3 {
                    0 => row.auto_renew = Some(!sub.auto_renew),
                    1 => row.term = Some(if sub.term == "P1Y" { "P1M" } else { "P1Y" }.into()),
                    _ => row.status = "suspended".into(),
                },
            }
            store::billed::insert(&mut tx, customer_id, &row, by, now).await?;
            if k == 0 && i % 9 == 0 {
                store::billed::insert(&mut tx, customer_id, &row, by, now).await?;
            }
        }
        if i % 4 == 0 {
            let extra = BilledFields {
                product: "Dynamics 365 Business Central Essentials".into(),
                offer_id: None,
                pc_subscription_id: None,
                tenant_id: None,
                quantity: 3,
                billing_cycle: Some("monthly".into()),
                term: Some("P1M".into()),
                status: "active".into(),
                auto_renew: Some(true),
                unit_price: Some("70.00".into()),
                currency: Some("EUR".into()),
                notes: "Billed from the old contract.".into(),
            };
            store::billed::insert(&mut tx, customer_id, &extra, by, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Starts the payment gateways' simulator on loopback for the demo and answers the options that
/// point the portal's Stripe client at it (with its test key).
pub async fn start_gateway_simulator(
) -> Result<crate::config::GatewayOptions, Box<dyn std::error::Error + Send + Sync>> {
    use crate::gateway_sim::{router, GatewayData, GatewaySimulator};
    let data = GatewayData::demo();
    let key = data.stripe_test_key.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(GatewaySimulator::new(data))).await {
            tracing::error!(error = %e, "the demo's payment gateway simulator stopped");
        }
    });
    tracing::info!(%addr, "demo payment gateway simulator serving (Stripe, test mode)");
    Ok(crate::config::GatewayOptions {
        payment_gateway: Some("stripe".into()),
        stripe_secret_key: Some(app::ssr::partner_center::Secret::new(key)),
        stripe_api_url: format!("http://{addr}/stripe"),
        authorize_net_login_id: None,
        authorize_net_transaction_key: None,
        authorize_net_api_url: format!("http://{addr}/authorize-net/xml/v1/request.api"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_words_joined_by_dashes() {
        assert_eq!(slug("Cedar & Stone Builders"), "cedar-stone-builders");
        assert_eq!(slug("Highland Brewing Co."), "highland-brewing");
    }

    #[test]
    fn demo_unlinked_tenants_have_ids_of_their_own() {
        let linked: std::collections::HashSet<_> = (0..200).map(demo_tenant_id).collect();
        for n in 0..DEMO_UNLINKED.len() {
            let id = demo_unlinked_tenant_id(n);
            assert!(!linked.contains(&id), "{id}");
            assert!(app::model::parse_tenant_id(&id).is_ok(), "{id}");
        }
    }

    #[test]
    fn demo_tenant_ids_are_distinct_guids() {
        let ids: std::collections::HashSet<_> = (0..200).map(demo_tenant_id).collect();
        assert_eq!(ids.len(), 200);
        for id in ids {
            let parts: Vec<_> = id.split('-').map(str::len).collect();
            assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
        }
    }

    #[test]
    fn simulator_data_has_one_entry_per_tenant_with_licenses() {
        let tenants: Vec<_> = (0..10)
            .map(|n| {
                (
                    demo_tenant_id(n),
                    format!("T{n}"),
                    format!("t{n}.onmicrosoft.com"),
                )
            })
            .collect();
        let data = simulator_data(&tenants);
        assert_eq!(data.customers.len(), 10);
        for (c, (id, ..)) in data.customers.iter().zip(&tenants) {
            assert_eq!(&c.customer.id, id);
            assert!(c.subscriptions.len() >= 2 && !c.subscribed_skus.is_empty());
        }
        // Some tenants have more licenses assigned than bought, as real ones do.
        assert!(data
            .customers
            .iter()
            .flat_map(|c| &c.subscribed_skus)
            .any(|k| k.consumed_units > k.total_units));
    }

    #[test]
    fn customer_names_are_unique() {
        let set: std::collections::HashSet<_> = CUSTOMER_NAMES.iter().map(|n| slug(n)).collect();
        assert_eq!(set.len(), CUSTOMER_NAMES.len());
    }
}
