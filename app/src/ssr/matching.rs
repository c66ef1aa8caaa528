//! Which portal customer a Partner Center tenant most likely belongs to, and why: the rules
//! partners use, strongest first, with no fuzzy scores.
//!
//! 1. The tenant id already recorded for a customer (certain).
//! 2. The tenant's domain equal to a customer's primary domain (high).
//! 3. The company name equal once normalised (medium): case and accents folded, punctuation and
//!    spaces collapsed, legal suffixes ignored. "CSP Tech Ltd" and "CSP Technology Ltd" do not
//!    match.
//!
//! When a rule finds two customers or more, the suggestion is ambiguous and names them all: it
//! is never decided silently. A weaker rule is not consulted once a stronger one has spoken.

use std::collections::HashMap;
use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Legal-form suffixes, as [`normalise_name`] leaves them (dots removed, lower case), longest
/// first so that "pty ltd" is taken before "ltd".
const LEGAL_SUFFIXES: &[&[&str]] = &[
    &["pty", "ltd"],
    &["incorporated"],
    &["corporation"],
    &["company"],
    &["limited"],
    &["gmbh"],
    &["corp"],
    &["inc"],
    &["ltd"],
    &["llc"],
    &["plc"],
    &["sas"],
    &["aps"],
    &["srl"],
    &["spa"],
    &["pty"],
    &["ag"],
    &["sa"],
    &["bv"],
    &["nv"],
    &["co"],
    &["kg"],
    &["oy"],
    &["ab"],
    &["as"],
    &["kk"],
];

/// A company name as matching compares it: accents and case folded, dots and apostrophes
/// dropped ("L.L.C." is "llc", "O'Neil" is "oneil"), every other run of punctuation or space one
/// space, and legal suffixes at the end removed (never the last word left). Idempotent.
pub fn normalise_name(name: &str) -> String {
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| !matches!(c, '.' | '\'' | '\u{2019}'))
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    'strip: while words.len() > 1 {
        for suffix in LEGAL_SUFFIXES {
            if words.len() > suffix.len() && words.ends_with(suffix) {
                words.truncate(words.len() - suffix.len());
                continue 'strip;
            }
        }
        break;
    }
    words.join(" ")
}

/// A domain as compared: trimmed, lower case, without a trailing dot.
pub fn normalise_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_lowercase()
}

/// Why a customer is suggested for a tenant, strongest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// The tenant id is already recorded for the customer.
    TenantId,
    /// The tenant's domain is the customer's primary domain.
    Domain,
    /// The normalised company names are equal.
    Name,
}

impl Reason {
    /// How far the suggestion can be trusted, for people.
    pub fn confidence(self) -> &'static str {
        match self {
            Reason::TenantId => "certain",
            Reason::Domain => "high",
            Reason::Name => "medium",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Reason::TenantId => "this tenant id is already recorded for the customer",
            Reason::Domain => "the tenant's domain is the customer's primary domain",
            Reason::Name => "the company names are the same (ignoring case, accents, punctuation and legal suffixes)",
        }
    }
}

/// The suggestion for one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Suggestion {
    /// Exactly one customer, by the strongest rule that found any.
    Customer { customer_id: i64, reason: Reason },
    /// The strongest rule that found customers found several: a person decides.
    Ambiguous {
        customer_ids: Vec<i64>,
        reason: Reason,
    },
    /// No rule found a customer.
    None,
}

/// A portal customer as the matcher sees it.
pub struct CustomerFacts<'a> {
    pub id: i64,
    pub name: &'a str,
    pub primary_domain: &'a str,
    /// Tenant ids recorded for this customer (linked before, or kept from an earlier link).
    pub tenant_ids: &'a [String],
}

/// A Partner Center tenant as the matcher sees it.
pub struct TenantFacts<'a> {
    pub tenant_id: &'a str,
    pub company_name: &'a str,
    /// The tenant's domains (its default domain first).
    pub domains: &'a [String],
}

/// Every customer indexed once by each rule's key: suggestions for thousands of tenants cost
/// one look-up per rule each.
#[derive(Default)]
pub struct CustomerIndex {
    by_tenant: HashMap<String, Vec<i64>>,
    by_domain: HashMap<String, Vec<i64>>,
    by_name: HashMap<String, Vec<i64>>,
}

fn add(map: &mut HashMap<String, Vec<i64>>, key: String, id: i64) {
    if key.is_empty() {
        return;
    }
    let ids = map.entry(key).or_default();
    if !ids.contains(&id) {
        ids.push(id);
    }
}

impl CustomerIndex {
    pub fn new<'a>(customers: impl IntoIterator<Item = CustomerFacts<'a>>) -> Self {
        let mut index = CustomerIndex::default();
        for c in customers {
            for tenant in c.tenant_ids {
                add(&mut index.by_tenant, tenant.trim().to_lowercase(), c.id);
            }
            add(
                &mut index.by_domain,
                normalise_domain(c.primary_domain),
                c.id,
            );
            add(&mut index.by_name, normalise_name(c.name), c.id);
        }
        index
    }

    /// The suggestion for `tenant`.
    pub fn suggest(&self, tenant: &TenantFacts<'_>) -> Suggestion {
        let by_tenant = self
            .by_tenant
            .get(&tenant.tenant_id.trim().to_lowercase())
            .cloned()
            .unwrap_or_default();
        let mut by_domain: Vec<i64> = Vec::new();
        for domain in tenant.domains {
            for id in self
                .by_domain
                .get(&normalise_domain(domain))
                .into_iter()
                .flatten()
            {
                if !by_domain.contains(id) {
                    by_domain.push(*id);
                }
            }
        }
        let by_name = self
            .by_name
            .get(&normalise_name(tenant.company_name))
            .cloned()
            .unwrap_or_default();
        for (reason, mut ids) in [
            (Reason::TenantId, by_tenant),
            (Reason::Domain, by_domain),
            (Reason::Name, by_name),
        ] {
            match ids.len() {
                0 => continue,
                1 => {
                    return Suggestion::Customer {
                        customer_id: ids[0],
                        reason,
                    }
                }
                _ => {
                    ids.sort_unstable();
                    return Suggestion::Ambiguous {
                        customer_ids: ids,
                        reason,
                    };
                }
            }
        }
        Suggestion::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_are_folded_and_legal_suffixes_ignored() {
        assert_eq!(normalise_name("  Contoso,   Ltd. "), "contoso");
        assert_eq!(normalise_name("Société Générale S.A."), "societe generale");
        assert_eq!(normalise_name("Müller GmbH & Co. KG"), "muller");
        assert_eq!(normalise_name("Fabrikam Pty Ltd"), "fabrikam");
        assert_eq!(normalise_name("Fabrikam, L.L.C."), "fabrikam");
        assert_eq!(normalise_name("O'Neil & Sons"), "oneil sons");
        assert_eq!(normalise_name("Highland Brewing Co."), "highland brewing");
        assert_eq!(normalise_name("Tailspin S.p.A."), "tailspin");
        assert_eq!(normalise_name("Northwind K.K."), "northwind");
        // The last word stays, even when it is a legal form.
        assert_eq!(normalise_name("Company"), "company");
        assert_eq!(normalise_name("Ltd."), "ltd");
        assert_eq!(normalise_name(""), "");
    }

    /// (tenant company name, tenant domain, customer names and domains, expected).
    #[test]
    fn a_table_of_real_looking_pairs() {
        use Expect::*;
        #[derive(Debug)]
        enum Expect {
            Match(Reason),
            NoMatch,
            Ambiguous,
        }
        /// (tenant company name, tenant domain, customers as (name, primary domain), expected)
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], Expect);
        let cases: &[Case] = &[
            (
                "Contoso Ltd",
                "contoso.onmicrosoft.com",
                &[("Contoso Limited", "contoso.com")],
                Match(Reason::Name),
            ),
            (
                "Contoso",
                "contoso.com",
                &[("Contoso Limited", "contoso.com")],
                Match(Reason::Domain),
            ),
            (
                "Contoso",
                "CONTOSO.COM.",
                &[("Something Else", "contoso.com")],
                Match(Reason::Domain),
            ),
            (
                "CSP Tech Ltd",
                "csptech.onmicrosoft.com",
                &[("CSP Technology Ltd", "csptechnology.com")],
                NoMatch,
            ),
            (
                "CSP Tech Ltd",
                "csptech.onmicrosoft.com",
                &[("CSP Tech Limited", "csp.example")],
                Match(Reason::Name),
            ),
            (
                "Fabrikam, Inc.",
                "fabrikam.onmicrosoft.com",
                &[("Fabrikam Incorporated", "fabrikam.example")],
                Match(Reason::Name),
            ),
            (
                "Fabrikam Inc",
                "f.onmicrosoft.com",
                &[("Fabrikam", "a.example"), ("FABRIKAM LLC", "b.example")],
                Ambiguous,
            ),
            (
                "Adventure Works Cycles",
                "aw.onmicrosoft.com",
                &[("Adventure Works", "aw.example")],
                NoMatch,
            ),
            (
                "Adventure-Works",
                "aw.onmicrosoft.com",
                &[("Adventure Works", "aw.example")],
                Match(Reason::Name),
            ),
            (
                "Wingtip Toys Pty Ltd",
                "w.onmicrosoft.com",
                &[("Wingtip Toys", "w.example")],
                Match(Reason::Name),
            ),
            (
                "Wingtip Toys Pty",
                "w.onmicrosoft.com",
                &[("Wingtip Toys Pty. Ltd.", "w.example")],
                Match(Reason::Name),
            ),
            (
                "Café Olé SARL",
                "c.onmicrosoft.com",
                &[("Cafe Ole SARL", "c.example")],
                Match(Reason::Name),
            ),
            (
                "Café Olé",
                "c.onmicrosoft.com",
                &[("Cafe Ole SAS", "c.example")],
                Match(Reason::Name),
            ),
            (
                "Zürich Trust AG",
                "z.onmicrosoft.com",
                &[("Zurich Trust", "z.example")],
                Match(Reason::Name),
            ),
            (
                "Nordic Oy",
                "n.onmicrosoft.com",
                &[("Nordic AB", "n.example")],
                Match(Reason::Name),
            ),
            (
                "Nordic Oy",
                "n.onmicrosoft.com",
                &[("Nordic AB", "n.example"), ("Nordic AS", "m.example")],
                Ambiguous,
            ),
            (
                "Dansk ApS",
                "d.onmicrosoft.com",
                &[("Dansk", "d.example")],
                Match(Reason::Name),
            ),
            (
                "Holland B.V.",
                "h.onmicrosoft.com",
                &[("Holland BV", "h.example")],
                Match(Reason::Name),
            ),
            (
                "Vlaanderen N.V.",
                "v.onmicrosoft.com",
                &[("Vlaanderen", "v.example")],
                Match(Reason::Name),
            ),
            (
                "Roma S.r.l.",
                "r.onmicrosoft.com",
                &[("Roma", "r.example")],
                Match(Reason::Name),
            ),
            (
                "Tokyo K.K.",
                "t.onmicrosoft.com",
                &[("Tokyo KK", "t.example")],
                Match(Reason::Name),
            ),
            (
                "Bristol PLC",
                "b.onmicrosoft.com",
                &[("Bristol", "b.example")],
                Match(Reason::Name),
            ),
            (
                "Bristol Water PLC",
                "b.onmicrosoft.com",
                &[("Bristol", "b.example")],
                NoMatch,
            ),
            (
                "Acme Corp",
                "acme.onmicrosoft.com",
                &[("Acme Corporation", "acme.example")],
                Match(Reason::Name),
            ),
            (
                "Acme Co",
                "acme.onmicrosoft.com",
                &[("Acme Company", "acme.example")],
                Match(Reason::Name),
            ),
            (
                "Acme Holdings",
                "acme.onmicrosoft.com",
                &[("Acme", "acme.example")],
                NoMatch,
            ),
            (
                "Smith & Jones",
                "sj.onmicrosoft.com",
                &[("Smith and Jones", "sj.example")],
                NoMatch,
            ),
            (
                "Smith & Jones",
                "sj.onmicrosoft.com",
                &[("Smith + Jones", "sj.example")],
                Match(Reason::Name),
            ),
            (
                "Blue Yonder",
                "by.onmicrosoft.com",
                &[("BlueYonder", "by.example")],
                NoMatch,
            ),
            (
                "Litware",
                "litware.com",
                &[("Litware", "other.example"), ("Litware Inc", "litware.com")],
                Match(Reason::Domain),
            ),
            (
                "Litware",
                "x.onmicrosoft.com",
                &[("Litware", "a.example"), ("Litware Inc", "b.example")],
                Ambiguous,
            ),
            (
                "Tailspin",
                "tailspin.com",
                &[
                    ("Tailspin", "tailspin.com"),
                    ("Tailspin Two", "tailspin.com"),
                ],
                Ambiguous,
            ),
            ("", "e.onmicrosoft.com", &[("", "f.example")], NoMatch),
        ];
        assert!(cases.len() >= 30);
        for (tenant_name, domain, customers, expected) in cases {
            let facts: Vec<CustomerFacts> = customers
                .iter()
                .enumerate()
                .map(|(i, (name, primary_domain))| CustomerFacts {
                    id: i as i64 + 1,
                    name,
                    primary_domain,
                    tenant_ids: &[],
                })
                .collect();
            let index = CustomerIndex::new(facts);
            let domains = vec![domain.to_string()];
            let got = index.suggest(&TenantFacts {
                tenant_id: "00000000-0000-0000-0000-000000000000",
                company_name: tenant_name,
                domains: &domains,
            });
            let ok = match (expected, &got) {
                (Match(reason), Suggestion::Customer { reason: r, .. }) => reason == r,
                (NoMatch, Suggestion::None) => true,
                (Ambiguous, Suggestion::Ambiguous { customer_ids, .. }) => customer_ids.len() >= 2,
                _ => false,
            };
            assert!(
                ok,
                "{tenant_name:?} / {domain}: expected {expected:?}, got {got:?}"
            );
        }
    }

    #[test]
    fn a_recorded_tenant_id_wins_over_every_other_rule() {
        let recorded = vec!["AAAAAAAA-0000-0000-0000-000000000001".to_owned()];
        let index = CustomerIndex::new([
            CustomerFacts {
                id: 1,
                name: "Old Name Ltd",
                primary_domain: "old.example",
                tenant_ids: &recorded,
            },
            CustomerFacts {
                id: 2,
                name: "Contoso",
                primary_domain: "contoso.com",
                tenant_ids: &[],
            },
        ]);
        let domains = vec!["contoso.com".to_owned()];
        let tenant = TenantFacts {
            tenant_id: "aaaaaaaa-0000-0000-0000-000000000001",
            company_name: "Contoso",
            domains: &domains,
        };
        assert_eq!(
            index.suggest(&tenant),
            Suggestion::Customer {
                customer_id: 1,
                reason: Reason::TenantId
            }
        );
        assert_eq!(Reason::TenantId.confidence(), "certain");
    }

    #[test]
    fn suggesting_twice_gives_the_same_answer() {
        let index = CustomerIndex::new([CustomerFacts {
            id: 7,
            name: "Contoso Ltd",
            primary_domain: "contoso.com",
            tenant_ids: &[],
        }]);
        let domains = vec!["contoso.onmicrosoft.com".to_owned()];
        let tenant = TenantFacts {
            tenant_id: "1",
            company_name: "CONTOSO LIMITED",
            domains: &domains,
        };
        assert_eq!(index.suggest(&tenant), index.suggest(&tenant));
    }

    fn words() -> impl Strategy<Value = String> {
        proptest::collection::vec("[A-Za-zÀ-ÿ0-9&.,'-]{1,10}", 1..5).prop_map(|w| w.join(" "))
    }

    proptest! {
        #[test]
        fn normalising_is_idempotent(name in "\\PC{0,40}") {
            let once = normalise_name(&name);
            prop_assert_eq!(normalise_name(&once), once);
        }

        #[test]
        fn a_legal_suffix_alone_makes_no_difference(
            base in words(),
            suffix in proptest::sample::select(vec![
                "Ltd", "Limited", "Inc.", "Incorporated", "LLC", "L.L.C.", "GmbH", "AG", "SA", "S.A.",
                "SAS", "BV", "B.V.", "NV", "Pty Ltd", "Corp", "Corporation", "Co", "Company", "PLC",
                "KG", "Oy", "AB", "AS", "ApS", "S.r.l.", "S.p.A.", "K.K.",
            ]),
            comma in any::<bool>(),
        ) {
            prop_assume!(!normalise_name(&base).is_empty());
            let with = format!("{base}{} {suffix}", if comma { "," } else { "" });
            prop_assert_eq!(normalise_name(&with), normalise_name(&base));
        }
    }
}
