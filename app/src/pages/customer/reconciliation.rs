//! `/customers/{id}/reports/reconciliation`: License Reconciliation. Every Partner Center
//! subscription beside the billed row matched to it (and every billed row that matches
//! nothing): bought, assigned and billed, and each difference typed. The address says what is
//! open: `?acknowledged=1` shows acknowledged differences too, `?ack=ROW|KIND` asks for a note
//! before acknowledging, `?edit=ID` (or `?edit=new`) opens a billed row's form. Everything works
//! without JavaScript.

use super::customer_id_param;
use crate::components::data;
use crate::{
    api::reports::{get_reconciliation, AcknowledgeDifference, AdoptBilled, SaveBilled},
    components::{
        action_error, after_success, refetch_after, Confirm, ErrorMessage, FieldMessage,
        FocusPoint, FormMessage, PAGE_HEADING,
    },
    model::{
        count_of, format_time, AssignedState, BilledRecord, Difference, DifferenceKind, Permission,
        ReconciliationReport, ReconciliationRow, BILLED_STATUSES, BILLING_CYCLES, TERMS,
    },
};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What the address asks to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Asked {
    acknowledged: bool,
    /// `ROW|KIND` of the difference being acknowledged.
    ack: Option<String>,
    /// The billed row being edited (`Some(None)`: a new one).
    edit: Option<Option<i64>>,
}

#[component]
pub fn ReconciliationPage() -> impl IntoView {
    let id = customer_id_param();
    let query = use_query_map();
    let adopt = ServerAction::<AdoptBilled>::new();
    let save = ServerAction::<SaveBilled>::new();
    let ack = ServerAction::<AcknowledgeDifference>::new();
    let (adopted, saved, acked) = (
        refetch_after(adopt),
        refetch_after(save),
        refetch_after(ack),
    );
    let report = data(
        move || (id.get(), adopted.get(), saved.get(), acked.get()),
        |(id, ..)| get_reconciliation(id),
    );
    after_success(adopt, |_| Some(PAGE_HEADING.to_owned()));
    after_success(save, |_| Some(PAGE_HEADING.to_owned()));
    after_success(ack, |_| Some(PAGE_HEADING.to_owned()));
    let asked = Memo::new(move |_| {
        let q = query.read();
        Asked {
            acknowledged: q.get("acknowledged").is_some(),
            ack: q.get("ack"),
            edit: q.get("edit").map(|e| e.parse::<i64>().ok()),
        }
    });
    view! {
        <h2 id="page-heading" tabindex="-1">
            "License Reconciliation"
        </h2>
        <Transition fallback=|| view! { <p class="muted">"Loading the reconciliation…"</p> }>
            {move || {
                let asked = asked.get();
                Suspend::new(async move {
                    match report.await {
                        Ok(report) => {
                            view! { <Report report asked adopt save ack /> }.into_any()
                        }
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// The base address of the page, with `?acknowledged=1` kept when it is on.
fn base_href(customer_id: i64, acknowledged: bool) -> String {
    let base = format!("/customers/{customer_id}/reports/reconciliation");
    if acknowledged {
        format!("{base}?acknowledged=1")
    } else {
        base
    }
}

fn with_param(base: &str, param: &str) -> String {
    let joiner = if base.contains('?') { '&' } else { '?' };
    format!("{base}{joiner}{param}")
}

#[component]
fn Report(
    report: ReconciliationReport,
    asked: Asked,
    adopt: ServerAction<AdoptBilled>,
    save: ServerAction<SaveBilled>,
    ack: ServerAction<AcknowledgeDifference>,
) -> impl IntoView {
    let customer_id = report.customer_id;
    let base = base_href(customer_id, asked.acknowledged);
    let open: usize = report
        .rows
        .iter()
        .map(|r| r.differences.iter().filter(|d| !d.acknowledged).count())
        .sum();
    let acknowledged: usize = report
        .rows
        .iter()
        .map(|r| r.differences.iter().filter(|d| d.acknowledged).count())
        .sum();
    let unbilled = report
        .rows
        .iter()
        .filter(|r| {
            r.differences
                .iter()
                .any(|d| d.kind == DifferenceKind::MissingInPortal)
        })
        .count();
    let snapshot = match report.snapshot_at {
        Some(at) if report.stale => view! {
            <p class="warning" role="note">
                {format!(
                    "Partner Center as synced {}: more than a day ago. Reload the reconciliation on Provider Tenants for today's figures.",
                    format_time(at)
                )}
            </p>
        }
        .into_any(),
        Some(at) => view! { <p class="muted">{format!("Partner Center as synced {}.", format_time(at))}</p> }.into_any(),
        None => view! {
            <p class="warning" role="note">
                "Not every tenant of this customer has been synced yet: Partner Center's side may be incomplete."
            </p>
        }
        .into_any(),
    };
    let summary = format!(
        "{} open{}.",
        count_of(open, "difference", "differences"),
        if acknowledged > 0 {
            format!(", {acknowledged} acknowledged")
        } else {
            String::new()
        }
    );
    let toggle = if asked.acknowledged {
        view! { <a href=base_href(customer_id, false)>"Hide acknowledged differences"</a> }
    } else {
        view! { <a href=base_href(customer_id, true)>"Show acknowledged differences"</a> }
    };
    let read_only = (!report.can_edit_billed).then(|| {
        view! {
            <p class="read-only-note" data-testid="read-only">
                {format!(
                    "You can view this report; the billed record is kept by {}.",
                    Permission::ManageBilled.granted_to()
                )}
            </p>
        }
    });
    let adopt_all = (report.can_edit_billed && unbilled > 0).then(|| {
        let error = action_error(adopt);
        view! {
            <ActionForm action=adopt attr:class="inline-form">
                <input type="hidden" name="customer_id" value=customer_id />
                <FormMessage error />
                <button type="submit" disabled=move || adopt.pending().get()>
                    {format!(
                        "Adopt {} from Partner Center",
                        count_of(unbilled, "unbilled subscription", "unbilled subscriptions")
                    )}
                </button>
            </ActionForm>
        }
    });
    let editor = match asked.edit {
        Some(which) if report.can_edit_billed => {
            let record = which.and_then(|id| {
                report
                    .rows
                    .iter()
                    .filter_map(|r| r.billed_record.as_ref())
                    .find(|b| b.id == id)
                    .cloned()
            });
            Some(view! { <BilledForm customer_id record cancel_href=base.clone() save /> })
        }
        _ => None,
    };
    let add_link = (report.can_edit_billed && asked.edit.is_none()).then(
        || view! { <a class="button" href=with_param(&base, "edit=new")>"Add a billed row…"</a> },
    );
    let import_link = report.can_edit_billed.then(
        || view! { <a class="button" href="/reports/billed-import">"Import from a file…"</a> },
    );
    let table = if report.rows.is_empty() {
        view! {
            <p class="empty">
                "Nothing to reconcile yet: no Partner Center subscription has been synced and the billed record is empty."
            </p>
        }
        .into_any()
    } else {
        let (can_edit, can_ack) = (report.can_edit_billed, report.can_acknowledge);
        view! {
            <table class="matrix reconciliation">
                <thead>
                    <tr>
                        <th scope="col">"Product"</th>
                        <th scope="col">"Bought"</th>
                        <th scope="col">"Assigned"</th>
                        <th scope="col">"Billed"</th>
                        <th scope="col">"Differences"</th>
                    </tr>
                </thead>
                <tbody>
                    {report
                        .rows
                        .into_iter()
                        .map(|row| {
                            view! {
                                <Row
                                    row
                                    customer_id
                                    base=base.clone()
                                    asked=asked.clone()
                                    can_edit
                                    can_ack
                                    adopt
                                    ack
                                />
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
        .into_any()
    };
    view! {
        {read_only}
        {snapshot}
        <div class="directory-head">
            <p data-testid="recon-summary">{summary}</p>
            {toggle}
            <a class="button" href=format!("/api/customers/{customer_id}/reports/reconciliation.csv") download="" rel="external">
                "Download CSV"
            </a>
            <a class="button" href=format!("/api/customers/{customer_id}/reports/reconciliation.csv?excel=1") download="" rel="external">
                "CSV for Excel"
            </a>
        </div>
        <div class="section-actions">{adopt_all} {add_link} {import_link}</div>
        {editor}
        {table}
        <FocusPoint />
    }
}

/// A difference in words, with both values.
fn describe(d: &Difference) -> String {
    let pc = d.pc.clone().unwrap_or_else(|| "none".into());
    let billed = d.billed.clone().unwrap_or_else(|| "none".into());
    match d.kind {
        DifferenceKind::MissingInPortal => format!("{pc} bought, none billed"),
        DifferenceKind::MissingInPartnerCenter if d.pc.is_none() => {
            format!("{billed} billed, no such subscription in Partner Center")
        }
        DifferenceKind::MissingInPartnerCenter => {
            format!("Partner Center: {pc}; billed as {billed}")
        }
        DifferenceKind::QuantityBoughtOverBilled | DifferenceKind::QuantityBilledOverBought => {
            format!("{pc} bought, {billed} billed")
        }
        DifferenceKind::AssignedOverBought => pc,
        DifferenceKind::BilledOverAssigned => format!("{pc} assigned, {billed} billed"),
        DifferenceKind::DuplicateBilled if billed.starts_with("billed row") => {
            format!("{billed} also claims subscription {pc}")
        }
        DifferenceKind::DuplicateBilled => format!("{billed} claim subscription {pc}"),
        DifferenceKind::Status
        | DifferenceKind::BillingCycle
        | DifferenceKind::Term
        | DifferenceKind::AutoRenew => format!("Partner Center: {pc}; billed: {billed}"),
    }
}

#[component]
#[allow(clippy::too_many_arguments)]
fn Row(
    row: ReconciliationRow,
    customer_id: i64,
    base: String,
    asked: Asked,
    can_edit: bool,
    can_ack: bool,
    adopt: ServerAction<AdoptBilled>,
    ack: ServerAction<AcknowledgeDifference>,
) -> impl IntoView {
    let number = |n: Option<i64>| n.map_or_else(|| "—".to_owned(), |n| n.to_string());
    let assigned = match row.assigned_state {
        AssignedState::Counted => number(row.assigned),
        AssignedState::NeedsDelegatedConsent => "needs delegated consent".to_owned(),
        AssignedState::NotCounted => "—".to_owned(),
    };
    let source = match (&row.pc, &row.billed_record) {
        (Some(pc), _) => format!("Partner Center subscription {}", pc.id),
        (None, Some(b)) => format!("billed row {}", b.id),
        (None, None) => String::new(),
    };
    let action = if can_edit {
        let billed_id = row.billed_record.as_ref().map(|b| b.id);
        let pc_id = row.pc.as_ref().map(|pc| pc.id.clone());
        match (billed_id, pc_id) {
            (Some(billed_id), _) => Some(
                view! {
                    <a class="button small" href=with_param(&base, &format!("edit={billed_id}"))>
                        {format!("Edit billed row {billed_id}")}
                    </a>
                }
                .into_any(),
            ),
            (None, Some(pc_id)) => Some(
                view! {
                    <ActionForm action=adopt attr:class="inline-form">
                        <input type="hidden" name="customer_id" value=customer_id />
                        <input type="hidden" name="subscription_id" value=pc_id />
                        <button type="submit" class="small" disabled=move || adopt.pending().get()>
                            "Adopt into the billed record"
                        </button>
                    </ActionForm>
                }
                .into_any(),
            ),
            (None, None) => None,
        }
    } else {
        None
    };
    let differences: Vec<Difference> = row
        .differences
        .iter()
        .filter(|d| asked.acknowledged || !d.acknowledged)
        .cloned()
        .collect();
    let key = row.key.clone();
    let differences = if differences.is_empty() {
        view! { <span class="muted">"None"</span> }.into_any()
    } else {
        view! {
            <ul class="differences">
                {differences
                    .into_iter()
                    .map(|d| {
                        let token = format!("{}|{}", key, d.kind.as_str());
                        let asking = asked.ack.as_deref() == Some(token.as_str());
                        let ack_link = (can_ack && !d.acknowledged && !asking).then(|| {
                            view! {
                                <a href=with_param(&base, &format!("ack={token}")) aria-label=format!("Acknowledge: {}", d.kind.label())>
                                    "Acknowledge…"
                                </a>
                            }
                        });
                        let form = (can_ack && asking).then(|| {
                            view! { <AcknowledgeForm customer_id row_key=key.clone() kind=d.kind cancel_href=base.clone() ack /> }
                        });
                        view! {
                            <li data-kind=d.kind.as_str()>
                                <strong>{d.kind.label()}</strong>
                                " "
                                <span>{describe(&d)}</span>
                                {d.acknowledged.then(|| view! { <span class="badge">"Acknowledged"</span> })}
                                {d.acknowledgement.as_ref().map(|a| view! {
                                    <span class="muted small-text ack-note" data-testid="ack-note">
                                        {format!("by {} on {}: {}", a.by, format_time(a.at), a.note)}
                                    </span>
                                })}
                                " "
                                {ack_link}
                                {form}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <tr id=row.key.replace([':', '|'], "-")>
            <td class="name">
                <strong>{row.product}</strong>
                <span class="muted small-text">{source}</span>
                {action}
            </td>
            <td data-label="Bought">{number(row.bought)}</td>
            <td data-label="Assigned">{assigned}</td>
            <td data-label="Billed">{number(row.billed)}</td>
            <td data-label="Differences">{differences}</td>
        </tr>
    }
}

#[component]
fn AcknowledgeForm(
    customer_id: i64,
    row_key: String,
    kind: DifferenceKind,
    cancel_href: String,
    ack: ServerAction<AcknowledgeDifference>,
) -> impl IntoView {
    let error = action_error(ack);
    view! {
        <ActionForm action=ack attr:class="stack-form">
            <input type="hidden" name="customer_id" value=customer_id />
            <input type="hidden" name="row_key" value=row_key />
            <input type="hidden" name="kind" value=kind.as_str() />
            <div class="field">
                <label for="ack-note">"Why is it acknowledged?"</label>
                <textarea id="ack-note" name="note" maxlength="500" required aria-describedby="ack-note-error"></textarea>
                <FieldMessage error field="note" id="ack-note-error" />
            </div>
            <FormMessage error />
            <Confirm yes="Acknowledge".to_owned() cancel_href pending=ack.pending()>
                {format!(
                    "Acknowledge “{}”? It stays acknowledged until one of its values changes.",
                    kind.label()
                )}
            </Confirm>
        </ActionForm>
    }
}

/// A select of a fixed list, with an empty choice (not recorded) when `optional`.
fn choice(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    values: &[&'static str],
    current: Option<String>,
    optional: bool,
) -> impl IntoView {
    let options = values
        .iter()
        .map(|v| {
            let selected = current.as_deref() == Some(*v);
            view! { <option value=*v selected=selected>{*v}</option> }
        })
        .collect_view();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name=name>
                {optional.then(|| view! { <option value="">"not recorded"</option> })}
                {options}
            </select>
        </div>
    }
}

#[component]
fn BilledForm(
    customer_id: i64,
    record: Option<BilledRecord>,
    cancel_href: String,
    save: ServerAction<SaveBilled>,
) -> impl IntoView {
    let error = action_error(save);
    let heading = match &record {
        Some(b) => format!("Billed row {}: {}", b.id, b.product),
        None => "A new billed row".to_owned(),
    };
    let b = record.clone().unwrap_or(BilledRecord {
        id: 0,
        version: 0,
        product: String::new(),
        offer_id: None,
        pc_subscription_id: None,
        tenant_id: None,
        quantity: 0,
        billing_cycle: None,
        term: None,
        status: "active".into(),
        auto_renew: None,
        unit_price: None,
        currency: None,
        notes: String::new(),
    });
    let ids = record.as_ref().map(|r| {
        view! {
            <input type="hidden" name="id" value=r.id />
            <input type="hidden" name="version" value=r.version />
        }
    });
    // (input id, its message's id, field name, label, value, hint)
    let text = move |(id, error_id, name, label): (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ),
                     value: String,
                     hint: &'static str| {
        view! {
            <div class="field">
                <label for=id>{label}</label>
                <input id=id name=name value=value autocomplete="off" aria-describedby=error_id />
                <p class="hint">{hint}</p>
                <FieldMessage error field=name id=error_id />
            </div>
        }
    };
    view! {
        <section class="card billed-form" aria-labelledby="billed-form-heading">
            <h3 id="billed-form-heading">{heading}</h3>
            <ActionForm action=save attr:class="stack-form">
                <input type="hidden" name="customer_id" value=customer_id />
                {ids}
                {text(("billed-product", "billed-product-error", "product", "Product"), b.product.clone(), "As the customer is billed for it.")}
                {text(("billed-quantity", "billed-quantity-error", "quantity", "Quantity"), b.quantity.to_string(), "A whole number from 0 to 1,000,000.")}
                {text(("billed-offer", "billed-offer-error", "offer_id", "Offer id"), b.offer_id.clone().unwrap_or_default(), "Optional, such as CFQ7TTC0LDPB:0001.")}
                {text(("billed-subscription", "billed-subscription-error", "pc_subscription_id", "Partner Center subscription id"), b.pc_subscription_id.clone().unwrap_or_default(), "Optional: a GUID. When given, the row is matched by it alone.")}
                {text(("billed-tenant", "billed-tenant-error", "tenant_id", "Tenant id"), b.tenant_id.clone().unwrap_or_default(), "Optional: a GUID.")}
                {choice("billed-cycle", "billing_cycle", "Billing cycle", &BILLING_CYCLES, b.billing_cycle.clone(), true)}
                {choice("billed-term", "term", "Term", &TERMS, b.term.clone(), true)}
                {choice("billed-status", "status", "Status", &BILLED_STATUSES, Some(b.status.clone()), false)}
                {choice("billed-renew", "auto_renew", "Auto-renew", &["true", "false"], b.auto_renew.map(|r| r.to_string()), true)}
                {text(("billed-price", "billed-price-error", "unit_price", "Unit price"), b.unit_price.clone().unwrap_or_default(), "Optional: an exact decimal such as 12.50.")}
                {text(("billed-currency", "billed-currency-error", "currency", "Currency"), b.currency.clone().unwrap_or_default(), "Three letters such as EUR, with a price.")}
                <div class="field">
                    <label for="billed-notes">"Notes"</label>
                    <textarea id="billed-notes" name="notes" maxlength="1000" aria-describedby="billed-notes-error">{b.notes.clone()}</textarea>
                    <FieldMessage error field="notes" id="billed-notes-error" />
                </div>
                <FormMessage error />
                <div class="form-actions">
                    <button type="submit" class="primary" disabled=move || save.pending().get()>
                        "Save billed row"
                    </button>
                    <a class="button" href=cancel_href>"Cancel"</a>
                </div>
            </ActionForm>
        </section>
    }
}
