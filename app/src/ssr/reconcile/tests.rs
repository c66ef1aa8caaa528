use super::*;
use proptest::prelude::*;

const T: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const OTHER_TENANT: &str = "bbbbbbbb-0000-4000-8000-000000000002";

fn sub(id: &str, product: &str, quantity: i64) -> PcSubscription {
    PcSubscription {
        id: id.into(),
        tenant_id: T.into(),
        offer_id: format!("OFFER{}:0001", product.len()),
        offer_name: product.into(),
        quantity,
        status: "active".into(),
        billing_cycle: "monthly".into(),
        term: "P1M".into(),
        auto_renew: true,
        is_trial: false,
        commitment_end: "2027-01-31".into(),
    }
}

fn bill(id: i64, product: &str, quantity: i64) -> BilledRecord {
    BilledRecord {
        id,
        version: 1,
        product: product.into(),
        offer_id: None,
        pc_subscription_id: None,
        tenant_id: None,
        quantity,
        billing_cycle: None,
        term: None,
        status: "active".into(),
        auto_renew: None,
        unit_price: None,
        currency: None,
        notes: String::new(),
    }
}

fn by_id(id: i64, pc_id: &str, quantity: i64) -> BilledRecord {
    BilledRecord {
        pc_subscription_id: Some(pc_id.into()),
        ..bill(id, "whatever it is called here", quantity)
    }
}

use DifferenceKind::*;

struct Case {
    name: &'static str,
    pc: Vec<PcSubscription>,
    licences: Option<TenantLicences>,
    billed: Vec<BilledRecord>,
    /// Each row's key and its differences' kinds, in order.
    rows: Vec<(&'static str, Vec<DifferenceKind>)>,
}

fn case(
    name: &'static str,
    pc: Vec<PcSubscription>,
    billed: Vec<BilledRecord>,
    rows: Vec<(&'static str, Vec<DifferenceKind>)>,
) -> Case {
    Case {
        name,
        pc,
        licences: None,
        billed,
        rows,
    }
}

fn counted(skus: &[(&str, i64)]) -> Option<TenantLicences> {
    Some(TenantLicences::Counted(
        skus.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
    ))
}

fn with<F: FnOnce(&mut PcSubscription)>(mut s: PcSubscription, f: F) -> PcSubscription {
    f(&mut s);
    s
}

fn withb<F: FnOnce(&mut BilledRecord)>(mut b: BilledRecord, f: F) -> BilledRecord {
    f(&mut b);
    b
}

fn cases() -> Vec<Case> {
    let e3 = || sub("s1", "Office 365 E3", 25);
    let mut all = vec![
        case(
            "adopted by id: nothing differs",
            vec![e3()],
            vec![adopted_as(1, &e3())],
            vec![("pc:s1", vec![])],
        ),
        case(
            "Partner Center only: unbilled",
            vec![e3()],
            vec![],
            vec![("pc:s1", vec![MissingInPortal])],
        ),
        case(
            "an unbilled trial is not missing",
            vec![with(e3(), |s| s.is_trial = true)],
            vec![],
            vec![("pc:s1", vec![])],
        ),
        case(
            "an unbilled quantity 0 is not missing",
            vec![with(e3(), |s| s.quantity = 0)],
            vec![],
            vec![("pc:s1", vec![])],
        ),
        case(
            "an unbilled deleted subscription is not missing",
            vec![with(e3(), |s| s.status = "deleted".into())],
            vec![],
            vec![("pc:s1", vec![])],
        ),
        case(
            "an unbilled expired subscription is not missing",
            vec![with(e3(), |s| s.status = "expired".into())],
            vec![],
            vec![("pc:s1", vec![])],
        ),
        case(
            "billed only: not in Partner Center",
            vec![],
            vec![bill(1, "Office 365 E3", 10)],
            vec![("billed:1", vec![MissingInPartnerCenter])],
        ),
        case(
            "billed only and ended: nothing to say",
            vec![],
            vec![withb(bill(1, "Office 365 E3", 10), |b| {
                b.status = "ended".into()
            })],
            vec![("billed:1", vec![])],
        ),
        case(
            "billed naming an unknown subscription id",
            vec![e3()],
            vec![by_id(1, "s9", 25)],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "billed naming a deleted subscription",
            vec![with(e3(), |s| s.status = "deleted".into())],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![MissingInPartnerCenter])],
        ),
        case(
            "billed naming a disabled subscription",
            vec![with(e3(), |s| s.status = "disabled".into())],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![MissingInPartnerCenter])],
        ),
        case(
            "subscription ids compare in any case",
            vec![sub("ABCD-ef", "Office 365 E3", 25)],
            vec![by_id(1, "abcd-EF", 25)],
            vec![("pc:abcd-ef", vec![])],
        ),
        case(
            "a named id is not matched by name instead",
            vec![e3()],
            vec![withb(by_id(1, "s9", 25), |b| {
                b.product = "Office 365 E3".into()
            })],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "bought over billed",
            vec![e3()],
            vec![by_id(1, "s1", 20)],
            vec![("pc:s1", vec![QuantityBoughtOverBilled])],
        ),
        case(
            "billed over bought",
            vec![with(e3(), |s| s.quantity = 20)],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![QuantityBilledOverBought])],
        ),
        case(
            "billed quantity 0",
            vec![e3()],
            vec![by_id(1, "s1", 0)],
            vec![("pc:s1", vec![QuantityBoughtOverBilled])],
        ),
        case(
            "bought quantity 0 and billed 0",
            vec![with(e3(), |s| s.quantity = 0)],
            vec![by_id(1, "s1", 0)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "suspended in Partner Center, billed active",
            vec![with(e3(), |s| s.status = "suspended".into())],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![Status])],
        ),
        case(
            "suspended on both sides",
            vec![with(e3(), |s| s.status = "suspended".into())],
            vec![withb(by_id(1, "s1", 25), |b| b.status = "suspended".into())],
            vec![("pc:s1", vec![])],
        ),
        case(
            "pending counts as active",
            vec![with(e3(), |s| s.status = "pending".into())],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "active in Partner Center, ended in billing",
            vec![e3()],
            vec![withb(by_id(1, "s1", 25), |b| b.status = "ended".into())],
            vec![("pc:s1", vec![Status])],
        ),
        case(
            "ended on both sides",
            vec![with(e3(), |s| s.status = "expired".into())],
            vec![withb(by_id(1, "s1", 25), |b| b.status = "ended".into())],
            vec![("pc:s1", vec![])],
        ),
        case(
            "a status added since is not called a difference",
            vec![with(e3(), |s| s.status = "archived".into())],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "an unknown status unbilled is missing",
            vec![with(e3(), |s| s.status = "archived".into())],
            vec![],
            vec![("pc:s1", vec![MissingInPortal])],
        ),
        case(
            "billing cycle differs",
            vec![with(e3(), |s| s.billing_cycle = "annual".into())],
            vec![withb(by_id(1, "s1", 25), |b| {
                b.billing_cycle = Some("monthly".into())
            })],
            vec![("pc:s1", vec![BillingCycle])],
        ),
        case(
            "billing cycle not recorded: not compared",
            vec![with(e3(), |s| s.billing_cycle = "annual".into())],
            vec![by_id(1, "s1", 25)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "term differs",
            vec![with(e3(), |s| s.term = "P1Y".into())],
            vec![withb(by_id(1, "s1", 25), |b| b.term = Some("P1M".into()))],
            vec![("pc:s1", vec![Term])],
        ),
        case(
            "terms compare in any case",
            vec![with(e3(), |s| s.term = "p1y".into())],
            vec![withb(by_id(1, "s1", 25), |b| b.term = Some("P1Y".into()))],
            vec![("pc:s1", vec![])],
        ),
        case(
            "auto-renew differs",
            vec![with(e3(), |s| s.auto_renew = false)],
            vec![withb(by_id(1, "s1", 25), |b| b.auto_renew = Some(true))],
            vec![("pc:s1", vec![AutoRenew])],
        ),
        case(
            "several differences on one row, in order",
            vec![with(e3(), |s| {
                s.term = "P1Y".into();
                s.auto_renew = false;
            })],
            vec![withb(by_id(1, "s1", 30), |b| {
                b.term = Some("P1M".into());
                b.auto_renew = Some(true);
            })],
            vec![("pc:s1", vec![QuantityBilledOverBought, Term, AutoRenew])],
        ),
        case(
            "two billed rows claim one subscription",
            vec![e3()],
            vec![by_id(1, "s1", 25), by_id(2, "S1", 25)],
            vec![
                ("pc:s1", vec![DuplicateBilled]),
                ("billed:2", vec![DuplicateBilled]),
            ],
        ),
        case(
            "matched by offer id",
            vec![e3()],
            vec![withb(bill(1, "E3 seats", 25), |b| {
                b.offer_id = Some("offer13:0001".into())
            })],
            vec![("pc:s1", vec![])],
        ),
        case(
            "matched by offer id without its SKU part",
            vec![e3()],
            vec![withb(bill(1, "E3 seats", 25), |b| {
                b.offer_id = Some("OFFER13".into())
            })],
            vec![("pc:s1", vec![])],
        ),
        case(
            "another SKU of the same product does not match",
            vec![e3()],
            vec![withb(bill(1, "E3 seats", 25), |b| {
                b.offer_id = Some("OFFER13:0002".into())
            })],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "matched by name, (NCE) aside",
            vec![sub("s1", "Microsoft 365 Business Standard", 10)],
            vec![bill(1, "Microsoft 365 Business Standard (NCE)", 10)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "matched by name, (TM) and ® aside",
            vec![sub("s1", "Microsoft 365® Business Basic", 10)],
            vec![bill(1, "Microsoft 365(TM) Business Basic", 10)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "matched by name, (Monthly) aside",
            vec![sub("s1", "Microsoft Teams Essentials", 10)],
            vec![bill(1, "Microsoft Teams Essentials (Monthly)", 10)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "matched by name, (Annual) (NCE) aside",
            vec![sub("s1", "Exchange Online (Plan 1)", 10)],
            vec![bill(1, "Exchange Online (Plan 1) (Annual) (NCE)", 10)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "matched by name, (Yearly) aside",
            vec![sub("s1", "Visio Plan 2", 10)],
            vec![bill(1, "Visio Plan 2 (Yearly)", 10)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "matched by name in any case, spacing and punctuation",
            vec![sub("s1", "Microsoft 365 Business Basic", 10)],
            vec![bill(1, "microsoft  365 - business basic", 10)],
            vec![("pc:s1", vec![])],
        ),
        case(
            "Office 365 E3 is not Microsoft 365 E3",
            vec![e3()],
            vec![bill(1, "Microsoft 365 E3", 25)],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "E3 is not E5",
            vec![sub("s1", "Microsoft 365 E3", 25)],
            vec![bill(1, "Microsoft 365 E5", 25)],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "(Plan 1) is part of the name, not a qualifier",
            vec![sub("s1", "Exchange Online (Plan 1)", 10)],
            vec![bill(1, "Exchange Online", 10)],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "a billed row of another tenant is not matched by name",
            vec![e3()],
            vec![withb(bill(1, "Office 365 E3", 25), |b| {
                b.tenant_id = Some(OTHER_TENANT.into())
            })],
            vec![
                ("pc:s1", vec![MissingInPortal]),
                ("billed:1", vec![MissingInPartnerCenter]),
            ],
        ),
        case(
            "a live subscription is matched before an ended one",
            vec![
                with(sub("s1", "Office 365 E3", 5), |s| {
                    s.status = "deleted".into()
                }),
                sub("s2", "Office 365 E3", 25),
            ],
            vec![bill(1, "Office 365 E3", 25)],
            vec![("pc:s1", vec![]), ("pc:s2", vec![])],
        ),
        case(
            "one billed row, two subscriptions of the product",
            vec![
                sub("s1", "Office 365 E3", 10),
                sub("s2", "Office 365 E3", 15),
            ],
            vec![bill(1, "Office 365 E3", 10)],
            vec![("pc:s1", vec![]), ("pc:s2", vec![MissingInPortal])],
        ),
    ];
    all.extend([
        Case {
            name: "assigned over bought",
            pc: vec![e3()],
            licences: counted(&[("Office 365 E3", 27)]),
            billed: vec![by_id(1, "s1", 25)],
            rows: vec![("pc:s1", vec![AssignedOverBought])],
        },
        Case {
            name: "billed over assigned",
            pc: vec![e3()],
            licences: counted(&[("Office 365 E3", 20)]),
            billed: vec![by_id(1, "s1", 25)],
            rows: vec![("pc:s1", vec![BilledOverAssigned])],
        },
        Case {
            name: "assigned equal to bought and billed",
            pc: vec![e3()],
            licences: counted(&[("Office 365 E3", 25)]),
            billed: vec![by_id(1, "s1", 25)],
            rows: vec![("pc:s1", vec![])],
        },
        Case {
            name: "unbilled: no billed-over-assigned",
            pc: vec![e3()],
            licences: counted(&[("Office 365 E3", 20)]),
            billed: vec![],
            rows: vec![("pc:s1", vec![MissingInPortal])],
        },
        Case {
            name: "needs delegated consent: no licence differences",
            pc: vec![e3()],
            licences: Some(TenantLicences::NeedsDelegatedConsent),
            billed: vec![by_id(1, "s1", 25)],
            rows: vec![("pc:s1", vec![])],
        },
        Case {
            name: "no licence of the product: not counted",
            pc: vec![e3()],
            licences: counted(&[("Visio Plan 2", 99)]),
            billed: vec![by_id(1, "s1", 25)],
            rows: vec![("pc:s1", vec![])],
        },
        Case {
            name: "assigned compared with the product's sum",
            pc: vec![
                sub("s1", "Office 365 E3", 10),
                sub("s2", "Office 365 E3", 15),
            ],
            licences: counted(&[("Office 365 E3", 25)]),
            billed: vec![by_id(1, "s1", 10), by_id(2, "s2", 15)],
            rows: vec![("pc:s1", vec![]), ("pc:s2", vec![])],
        },
        Case {
            name: "assigned over the product's sum, on each row",
            pc: vec![
                sub("s1", "Office 365 E3", 10),
                sub("s2", "Office 365 E3", 15),
            ],
            licences: counted(&[("Office 365 E3", 30)]),
            billed: vec![by_id(1, "s1", 10), by_id(2, "s2", 15)],
            rows: vec![
                ("pc:s1", vec![AssignedOverBought]),
                ("pc:s2", vec![AssignedOverBought]),
            ],
        },
        Case {
            name: "billed sum over assigned, on each row",
            pc: vec![
                sub("s1", "Office 365 E3", 10),
                sub("s2", "Office 365 E3", 15),
            ],
            licences: counted(&[("Office 365 E3", 25)]),
            billed: vec![by_id(1, "s1", 10), by_id(2, "s2", 20)],
            rows: vec![
                ("pc:s1", vec![BilledOverAssigned]),
                ("pc:s2", vec![QuantityBilledOverBought, BilledOverAssigned]),
            ],
        },
        Case {
            name: "an ended subscription leaves the product's sum",
            pc: vec![
                with(sub("s1", "Office 365 E3", 50), |s| {
                    s.status = "deleted".into()
                }),
                sub("s2", "Office 365 E3", 15),
            ],
            licences: counted(&[("Office 365 E3", 20)]),
            billed: vec![by_id(2, "s2", 15)],
            rows: vec![("pc:s1", vec![]), ("pc:s2", vec![AssignedOverBought])],
        },
        Case {
            name: "licence names join by the normalised product",
            pc: vec![sub("s1", "Microsoft 365 Business Premium", 10)],
            licences: counted(&[("MICROSOFT 365 BUSINESS PREMIUM (NCE)", 12)]),
            billed: vec![by_id(1, "s1", 10)],
            rows: vec![("pc:s1", vec![AssignedOverBought])],
        },
    ]);
    all
}

fn adopted_as(id: i64, s: &PcSubscription) -> BilledRecord {
    BilledRecord { id, ..adopted(s) }
}

#[test]
fn the_table_of_cases() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in cases {
        let mut licences = HashMap::new();
        if let Some(l) = case.licences {
            licences.insert(T.to_owned(), l);
        }
        let rows = reconcile(&case.pc, &licences, &case.billed);
        let got: Vec<(String, Vec<DifferenceKind>)> = rows
            .iter()
            .map(|r| {
                (
                    r.key.clone(),
                    r.differences.iter().map(|d| d.kind).collect(),
                )
            })
            .collect();
        let want: Vec<(String, Vec<DifferenceKind>)> = case
            .rows
            .iter()
            .map(|(k, d)| (k.to_string(), d.clone()))
            .collect();
        assert_eq!(got, want, "case: {}", case.name);
    }
}

#[test]
fn differences_carry_both_values_as_text() {
    let rows = reconcile(
        &[sub("s1", "Office 365 E3", 25)],
        &HashMap::new(),
        &[by_id(1, "s1", 20)],
    );
    assert_eq!(
        rows[0].differences,
        [Difference {
            kind: QuantityBoughtOverBilled,
            pc: Some("25".into()),
            billed: Some("20".into()),
            acknowledged: false,
            acknowledgement: None,
        }]
    );
    assert_eq!((rows[0].bought, rows[0].billed), (Some(25), Some(20)));
}

#[test]
fn the_licence_count_is_shown_on_each_row_of_its_product_with_its_state() {
    let pc = [
        sub("s1", "Office 365 E3", 10),
        sub("s2", "Office 365 E3", 15),
    ];
    let mut licences = HashMap::new();
    licences.insert(
        T.to_owned(),
        TenantLicences::Counted(vec![("Office 365 E3".into(), 22)]),
    );
    let rows = reconcile(&pc, &licences, &[]);
    assert!(rows
        .iter()
        .all(|r| r.assigned == Some(22) && r.assigned_state == AssignedState::Counted));
    licences.insert(T.to_owned(), TenantLicences::NeedsDelegatedConsent);
    let rows = reconcile(&pc, &licences, &[]);
    assert!(rows
        .iter()
        .all(|r| r.assigned.is_none() && r.assigned_state == AssignedState::NeedsDelegatedConsent));
    // Another tenant's counts are not this tenant's.
    let mut other = HashMap::new();
    other.insert(
        OTHER_TENANT.to_owned(),
        TenantLicences::Counted(vec![("Office 365 E3".into(), 22)]),
    );
    let rows = reconcile(&pc, &other, &[]);
    assert!(rows
        .iter()
        .all(|r| r.assigned_state == AssignedState::NotCounted));
}

#[test]
fn an_acknowledgement_holds_until_a_value_changes() {
    let ack = Acknowledgement {
        row_key: "pc:s1".into(),
        kind: QuantityBoughtOverBilled,
        pc: Some("25".into()),
        billed: Some("20".into()),
        note: None,
    };
    let mut rows = reconcile(
        &[sub("s1", "Office 365 E3", 25)],
        &HashMap::new(),
        &[by_id(1, "s1", 20)],
    );
    apply_acknowledgements(&mut rows, std::slice::from_ref(&ack));
    assert!(rows[0].differences[0].acknowledged);
    let mut rows = reconcile(
        &[sub("s1", "Office 365 E3", 26)],
        &HashMap::new(),
        &[by_id(1, "s1", 20)],
    );
    apply_acknowledgements(&mut rows, &[ack]);
    assert!(
        !rows[0].differences[0].acknowledged,
        "bought changed: open again"
    );
}

#[test]
fn product_names_normalise_as_documented() {
    for (a, b) in [
        (
            "Microsoft 365 Business Premium (NCE)",
            "microsoft 365 business premium",
        ),
        ("Office 365™ E3", "office 365 e3"),
        ("Office 365(R) E3 (Monthly) (NCE)", "office 365 e3"),
        (
            "  Dynamics 365  Sales—Enterprise ",
            "dynamics 365 sales enterprise",
        ),
        ("Exchange Online (Plan 1)", "exchange online plan 1"),
        ("Défenseur", "defenseur"),
        ("(NCE)", ""),
    ] {
        assert_eq!(normalise_product(a), b, "{a}");
    }
}

fn any_sub() -> impl Strategy<Value = PcSubscription> {
    (
        "[a-f0-9]{4}",
        prop::sample::select(vec![
            "Office 365 E3",
            "Microsoft 365 E3",
            "Microsoft 365 Business Premium (NCE)",
            "Visio Plan 2",
            "",
        ]),
        0i64..1_000,
        prop::sample::select(vec![
            "active",
            "suspended",
            "deleted",
            "expired",
            "pending",
            "disabled",
            "archived",
            "",
        ]),
        prop::sample::select(vec!["monthly", "annual", "none", "one_time", "weekly"]),
        prop::sample::select(vec!["P1M", "P1Y", "P3Y", "P2W", ""]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(id, product, quantity, status, cycle, term, renew, trial)| PcSubscription {
                id,
                tenant_id: T.into(),
                offer_id: format!("OFFER{}:0001", product.len()),
                offer_name: product.into(),
                quantity,
                status: status.into(),
                billing_cycle: cycle.into(),
                term: term.into(),
                auto_renew: renew,
                is_trial: trial,
                commitment_end: String::new(),
            },
        )
}

fn any_billed() -> impl Strategy<Value = BilledRecord> {
    (
        1i64..50,
        ".{0,20}",
        prop::option::of("[a-f0-9]{4}"),
        prop::option::of("OFFER[0-9]{1,2}(:000[12])?"),
        -5i64..1_000,
        prop::option::of(".{0,8}"),
        prop::option::of(".{0,4}"),
        prop::sample::select(vec!["active", "suspended", "ended", "odd"]),
        prop::option::of(any::<bool>()),
    )
        .prop_map(
            |(id, product, pc_id, offer, quantity, cycle, term, status, renew)| BilledRecord {
                pc_subscription_id: pc_id,
                offer_id: offer,
                billing_cycle: cycle,
                term,
                status: status.into(),
                auto_renew: renew,
                ..bill(id, &product, quantity)
            },
        )
}

proptest! {
    #[test]
    fn normalising_a_product_name_twice_changes_nothing(name in ".{0,40}") {
        let once = normalise_product(&name);
        prop_assert_eq!(normalise_product(&once), once);
    }

    #[test]
    fn a_billed_record_adopted_from_partner_center_has_no_differences(s in any_sub()) {
        let rows = reconcile(std::slice::from_ref(&s), &HashMap::new(), &[adopted_as(1, &s)]);
        prop_assert_eq!(rows.len(), 1);
        prop_assert_eq!(&rows[0].differences, &Vec::<Difference>::new());
    }

    #[test]
    fn every_subscription_and_billed_row_is_shown_once_and_nothing_panics(
        pc in prop::collection::vec(any_sub(), 0..8),
        billed in prop::collection::vec(any_billed(), 0..8),
        consumed in prop::option::of(0i64..2_000),
    ) {
        // Ids unique, as the database makes them.
        let mut pc = pc;
        pc.sort_by(|a, b| a.id.cmp(&b.id));
        pc.dedup_by(|a, b| a.id == b.id);
        let mut billed = billed;
        billed.sort_by_key(|b| b.id);
        billed.dedup_by_key(|b| b.id);
        let mut licences = HashMap::new();
        if let Some(consumed) = consumed {
            licences.insert(
                T.to_owned(),
                TenantLicences::Counted(vec![("Office 365 E3".into(), consumed)]),
            );
        }
        let rows = reconcile(&pc, &licences, &billed);
        let pc_rows = rows.iter().filter(|r| r.pc.is_some()).count();
        prop_assert_eq!(pc_rows, pc.len());
        let billed_shown = rows.iter().filter(|r| r.billed_record.is_some()).count();
        prop_assert_eq!(billed_shown, billed.len());
        for row in &rows {
            let mut kinds: Vec<_> = row.differences.iter().map(|d| d.kind).collect();
            kinds.dedup();
            prop_assert_eq!(kinds.len(), row.differences.len(), "a kind twice on {}", row.key);
        }
    }
}

#[test]
fn prices_are_exact_ten_thousandths_and_print_back_as_decimals() {
    assert_eq!(ten_thousandths("12.5"), Some(125_000));
    assert_eq!(ten_thousandths("12"), Some(120_000));
    assert_eq!(ten_thousandths("0.0001"), Some(1));
    assert_eq!(
        ten_thousandths("999999999999.9999"),
        Some(9_999_999_999_999_999)
    );
    for bad in ["", ".5", "1.23456", "abc", "1.x"] {
        assert_eq!(ten_thousandths(bad), None, "{bad:?}");
    }
    assert_eq!(format_ten_thousandths(5_025_000), "502.50");
    assert_eq!(format_ten_thousandths(1_250), "0.125");
    assert_eq!(format_ten_thousandths(1), "0.0001");
    assert_eq!(format_ten_thousandths(0), "0.00");
    assert_eq!(format_ten_thousandths(-25_000), "-2.50");
}

fn priced(b: BilledRecord, price: &str) -> BilledRecord {
    withb(b, |b| {
        b.unit_price = Some(price.into());
        b.currency = Some("EUR".into());
    })
}

#[test]
fn money_at_stake_is_the_quantity_gap_times_the_billed_price() {
    let id = "aaaaaaaa-1111-4000-8000-000000000001";
    let stake = |pc: Vec<PcSubscription>, billed: Vec<BilledRecord>| {
        reconcile(&pc, &HashMap::new(), &billed)
            .iter()
            .filter_map(money_at_stake)
            .collect::<Vec<_>>()
    };
    // Bought 25, billed 20 at 10.50: 5 unbilled seats.
    assert_eq!(
        stake(
            vec![sub(id, "Office 365 E3", 25)],
            vec![priced(by_id(1, id, 20), "10.50")]
        ),
        [("EUR".to_owned(), 525_000)]
    );
    // Billed 30 of 25 bought: 5 at risk of a refund.
    assert_eq!(
        stake(
            vec![sub(id, "Office 365 E3", 25)],
            vec![priced(by_id(1, id, 30), "10.50")]
        ),
        [("EUR".to_owned(), 525_000)]
    );
    // A billed row Partner Center lacks: all of it; a second billed row of one subscription: all
    // of the second.
    assert_eq!(
        stake(vec![], vec![priced(bill(1, "Visio Plan 2", 4), "2.5")]),
        [("EUR".to_owned(), 100_000)]
    );
    assert_eq!(
        stake(
            vec![sub(id, "Office 365 E3", 25)],
            vec![priced(by_id(1, id, 25), "1"), priced(by_id(2, id, 3), "1")]
        ),
        [("EUR".to_owned(), 30_000)]
    );
    // Equal quantities, no price, or a difference without a quantity: nothing at stake.
    assert!(stake(
        vec![sub(id, "Office 365 E3", 25)],
        vec![priced(by_id(1, id, 25), "10")]
    )
    .is_empty());
    assert!(stake(vec![sub(id, "Office 365 E3", 25)], vec![by_id(1, id, 20)]).is_empty());
    assert!(stake(
        vec![sub(id, "Office 365 E3", 25)],
        vec![priced(
            withb(by_id(1, id, 25), |b| b.billing_cycle =
                Some("annual".into())),
            "10"
        )]
    )
    .is_empty());
    // An acknowledged difference puts nothing at stake.
    let mut rows = reconcile(
        &[sub(id, "Office 365 E3", 25)],
        &HashMap::new(),
        &[priced(by_id(1, id, 20), "10")],
    );
    apply_acknowledgements(
        &mut rows,
        &[Acknowledgement {
            row_key: format!("pc:{id}"),
            kind: QuantityBoughtOverBilled,
            pc: Some("25".into()),
            billed: Some("20".into()),
            note: None,
        }],
    );
    assert_eq!(money_at_stake(&rows[0]), None);
}
