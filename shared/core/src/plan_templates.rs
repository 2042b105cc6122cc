//! Aktenplan templates: the one Akta ships (`plans/kgst-kommunal.csv`, compiled in) and those
//! the operator publishes, which every tenant admin can list and import. A template is a CSV
//! table `code;title;retention_years;disposition` (`,` works as the separator too; fields may
//! be double-quoted), one unit per row, every parent before its children. A row's parent is the
//! earlier unit whose code its own code extends by one level (`PlanCode::is_child_of`);
//! `retention_years` is a number or `unbefristet`, `disposition` `A`, `B` or `V`; empty cells
//! inherit the parent's (at the top: 10 years, B).
//!
//! Imported, a template goes through the same import as an xdomea 0301 plan: new units added,
//! existing codes updated, nothing deleted, all or nothing.

use akta_domain::{Disposition, PlanCode, Principal, Retention};
use akta_xdomea::model::{Keep, Plan, PlanUnitObject, Rating};
use serde::Serialize;

use crate::plan_exchange::{keep_of, rating_of, PlanImport};
use crate::{Core, CoreError};

/// The built-in template's name.
pub const BUILTIN_TEMPLATE: &str = "kgst-kommunal";
const BUILTIN_TITLE: &str = "Kommunaler Aktenplan nach Ämtern (KGSt-Gliederung)";
const BUILTIN_CSV: &str = include_str!("../plans/kgst-kommunal.csv");

/// Largest template accepted (a plan of a few thousand units).
pub const TEMPLATE_MAX_BYTES: usize = 512 * 1024;

/// The built-in template's CSV (to publish it under another name, or to read it).
pub fn builtin_csv() -> &'static str {
    BUILTIN_CSV
}

/// A template as the lists show it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanTemplate {
    pub name: String,
    pub title: String,
    /// How many plan units it has.
    pub units: usize,
    /// `akta` for the built-in template, else the operator who published it.
    pub published_by: String,
    pub builtin: bool,
}

/// Splits one CSV line on `sep`, honouring double quotes (`""` inside quotes is a quote).
fn split_line(line: &str, sep: char) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == sep && !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields.into_iter().map(|f| f.trim().to_owned()).collect()
}

fn row_error(line: usize, detail: impl std::fmt::Display) -> CoreError {
    CoreError::validation("plan", format!("Zeile {line}: {detail}"))
}

/// Parses a template CSV into a plan tree, checking every code against its parent's.
pub fn parse_plan_csv(name: &str, text: &str) -> Result<Plan, CoreError> {
    if text.len() > TEMPLATE_MAX_BYTES {
        return Err(CoreError::validation(
            "plan",
            format!("at most {TEMPLATE_MAX_BYTES} bytes"),
        ));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (_, header) = lines
        .next()
        .ok_or_else(|| CoreError::validation("plan", "the file is empty"))?;
    let sep = if header.contains(';') { ';' } else { ',' };
    let columns = split_line(header, sep);
    let col = |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name));
    let (Some(code_col), Some(title_col)) = (col("code"), col("title")) else {
        return Err(CoreError::validation(
            "plan",
            "the first line must name the columns: code;title;retention_years;disposition",
        ));
    };
    let (retention_col, disposition_col) = (col("retention_years"), col("disposition"));
    // Flat list of (code, parent index, unit); turned into a tree at the end.
    let mut flat: Vec<(PlanCode, Option<usize>, PlanUnitObject)> = Vec::new();
    for (index, line) in lines {
        let n = index + 1;
        akta_domain::check_input("plan", line).map_err(|e| row_error(n, e.message))?;
        let fields = split_line(line, sep);
        let cell = |c: Option<usize>| c.and_then(|c| fields.get(c)).map_or("", String::as_str);
        let code = PlanCode::parse(cell(Some(code_col))).map_err(|e| row_error(n, e.message))?;
        if flat.iter().any(|(c, _, _)| c == &code) {
            return Err(row_error(
                n,
                format!("the code {} appears twice", code.as_str()),
            ));
        }
        let title = akta_domain::bounded_text("title", cell(Some(title_col)), 500)
            .map_err(|e| row_error(n, format!("{}: {}", e.field, e.message)))?;
        let parent = flat.iter().rposition(|(c, _, _)| code.is_child_of(c));
        if parent.is_none() {
            // A code that starts like an earlier unit's but is no child of any: its parent
            // is missing (`63.01` under `6` without `63`), which would break the Aktenzeichen.
            if let Some((c, _, _)) = flat
                .iter()
                .find(|(c, _, _)| code.as_str().starts_with(c.as_str()))
            {
                return Err(row_error(
                    n,
                    format!(
                        "{} is not one level below {} (a unit between them is missing)",
                        code.as_str(),
                        c.as_str()
                    ),
                ));
            }
        }
        let inherited = parent.map_or((Keep::Years(10), Rating::B), |p| {
            (flat[p].2.keep, flat[p].2.rating)
        });
        let keep = match cell(retention_col) {
            "" => inherited.0,
            s if s.eq_ignore_ascii_case("unbefristet") => Keep::Unlimited,
            s => {
                let years: i64 = s.parse().map_err(|_| {
                    row_error(n, "retention_years must be a number or 'unbefristet'")
                })?;
                keep_of(Retention::from_years(Some(years)).map_err(|e| row_error(n, e.message))?)
            }
        };
        let rating = match cell(disposition_col) {
            "" => inherited.1,
            s => rating_of(Disposition::parse(s).map_err(|e| row_error(n, e.message))?),
        };
        flat.push((
            code.clone(),
            parent,
            PlanUnitObject {
                code: code.as_str().to_owned(),
                title,
                rating,
                keep,
                retired: false,
                children: Vec::new(),
            },
        ));
    }
    if flat.is_empty() {
        return Err(CoreError::validation("plan", "the file names no plan unit"));
    }
    // Children are attached from the end, so each unit is complete when it moves up.
    let mut nodes: Vec<Option<PlanUnitObject>> =
        flat.iter().map(|(_, _, u)| Some(u.clone())).collect();
    for i in (0..flat.len()).rev() {
        if let Some(p) = flat[i].1 {
            let node = nodes[i].take();
            if let (Some(node), Some(Some(parent))) = (node, nodes.get_mut(p)) {
                parent.children.insert(0, node);
            }
        }
    }
    Ok(Plan {
        name: name.to_owned(),
        version: "1".into(),
        units: nodes.into_iter().flatten().collect(),
    })
}

/// Checks a plan read from elsewhere (an xdomea 0301) the way the import will: every code
/// one level below its parent's.
pub fn check_plan_tree(units: &[PlanUnitObject], parent: Option<&str>) -> Result<(), CoreError> {
    for unit in units {
        let code = PlanCode::parse(&unit.code)?;
        if let Some(p) = parent {
            if !PlanCode::parse(p).is_ok_and(|p| code.is_child_of(&p)) {
                return Err(CoreError::validation(
                    "plan",
                    format!("Einheit {}: not one level below {p}", unit.code),
                ));
            }
        }
        check_plan_tree(&unit.children, Some(&unit.code))?;
    }
    Ok(())
}

fn count_units(units: &[PlanUnitObject]) -> usize {
    units.iter().map(|u| 1 + count_units(&u.children)).sum()
}

/// A template name: lowercase letters, digits and hyphens (as in the database's check).
fn parse_template_name(raw: &str) -> Result<String, CoreError> {
    let name = raw.trim().to_lowercase();
    let ok = (1..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(name)
    } else {
        Err(CoreError::validation(
            "name",
            "must be 1-63 characters: lowercase letters, digits, '-'",
        ))
    }
}

impl Core {
    /// Every template: the built-in one first, then those the operator published.
    pub async fn plan_templates(&self) -> Result<Vec<PlanTemplate>, CoreError> {
        let builtin = parse_plan_csv(BUILTIN_TITLE, BUILTIN_CSV)?;
        let mut out = vec![PlanTemplate {
            name: BUILTIN_TEMPLATE.into(),
            title: BUILTIN_TITLE.into(),
            units: count_units(&builtin.units),
            published_by: "akta".into(),
            builtin: true,
        }];
        for row in self.db.plan_templates().await? {
            let units = parse_plan_csv(&row.title, &row.csv).map_or(0, |p| count_units(&p.units));
            out.push(PlanTemplate {
                name: row.name,
                title: row.title,
                units,
                published_by: row.published_by,
                builtin: false,
            });
        }
        Ok(out)
    }

    /// The plan of a template by name (404 for an unknown name).
    pub async fn plan_template(&self, name: &str) -> Result<Plan, CoreError> {
        if name == BUILTIN_TEMPLATE {
            return parse_plan_csv(BUILTIN_TITLE, BUILTIN_CSV);
        }
        let name = parse_template_name(name).map_err(|_| CoreError::NotFound)?;
        let row = self
            .db
            .plan_template(&name)
            .await?
            .ok_or(CoreError::NotFound)?;
        parse_plan_csv(&row.title, &row.csv)
    }

    /// The operator publishes a template (checked like an import); the built-in name is taken.
    pub async fn publish_plan_template(
        &self,
        name: &str,
        title: &str,
        csv: &str,
        actor: &str,
    ) -> Result<PlanTemplate, CoreError> {
        let name = parse_template_name(name)?;
        if name == BUILTIN_TEMPLATE {
            return Err(CoreError::Conflict(
                "this name belongs to the template Akta ships".into(),
            ));
        }
        let title = akta_domain::bounded_text("title", title, 200)?;
        let plan = parse_plan_csv(&title, csv)?;
        let row = self.db.put_plan_template(&name, &title, csv, actor).await?;
        Ok(PlanTemplate {
            name: row.name,
            title: row.title,
            units: count_units(&plan.units),
            published_by: row.published_by,
            builtin: false,
        })
    }

    /// A tenant admin imports a template into the tenant's Aktenplan.
    pub async fn import_plan_template(
        &self,
        who: &Principal,
        name: &str,
    ) -> Result<PlanImport, CoreError> {
        let plan = self.plan_template(name).await?;
        self.import_plan_tree(who, plan).await
    }

    /// A tenant admin imports a CSV plan (the template format).
    pub async fn import_plan_csv(
        &self,
        who: &Principal,
        csv: &str,
    ) -> Result<PlanImport, CoreError> {
        let plan = parse_plan_csv("CSV", csv)?;
        self.import_plan_tree(who, plan).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_template_is_a_valid_tree_of_sensible_size() {
        let plan = parse_plan_csv("t", BUILTIN_CSV).expect("the built-in template parses");
        let n = count_units(&plan.units);
        assert!((60..=140).contains(&n), "{n} units");
        check_plan_tree(&plan.units, None).expect("codes extend their parents'");
        let tops: Vec<&str> = plan.units.iter().map(|u| u.code.as_str()).collect();
        assert_eq!(tops, ["1", "2", "3", "4", "5", "6", "7", "8"]);
    }

    #[test]
    fn a_child_whose_parent_is_missing_is_refused_with_its_line() {
        let err = parse_plan_csv("t", "code;title\n6;Bauwesen\n63.01;Baugenehmigungen\n")
            .expect_err("63 is missing");
        assert!(err.to_string().contains("Zeile 3"), "{err}");
    }

    #[test]
    fn empty_cells_inherit_and_quotes_hold_separators() {
        let plan = parse_plan_csv(
            "t",
            "code,title,retention_years,disposition\n6,\"Bauen, Wohnen\",30,A\n63,Bauordnung,,\n",
        )
        .expect("parses");
        assert_eq!(plan.units[0].title, "Bauen, Wohnen");
        let child = &plan.units[0].children[0];
        assert_eq!(child.keep, Keep::Years(30));
        assert_eq!(child.rating, Rating::A);
    }
}
