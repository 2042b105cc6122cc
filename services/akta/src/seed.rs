//! First start of the embedded default: a demo tenant with a small Aktenplan, so a new user
//! can file something right away.

use akta_core::model::NewPlanUnit;
use akta_core::Core;
use akta_domain::{Disposition, PlanCode, Retention};
use anyhow::Context;

use crate::config::Config;

pub async fn demo_on_first_start(core: &Core, config: &Config) -> anyhow::Result<()> {
    if !core.list_tenants().await?.is_empty() {
        return Ok(());
    }
    let (_, token) = core
        .create_tenant("demo", "Demo-Stadt", None, "system:setup")
        .await?;
    // The plan is filed like an admin would, with the new admin token.
    let admin = core
        .authenticate_token(&token)
        .await?
        .context("the new admin token does not authenticate")?;
    let units = [
        (
            "0",
            "Allgemeine Verwaltung",
            None,
            Some(Retention::Years(10)),
            Some(Disposition::Evaluate),
        ),
        (
            "6",
            "Bauen und Wohnen",
            None,
            Some(Retention::Years(30)),
            Some(Disposition::Evaluate),
        ),
        ("63", "Bauordnung", Some("6"), None, None),
        (
            "63.01",
            "Baugenehmigungen",
            Some("63"),
            None,
            Some(Disposition::Archive),
        ),
        (
            "63.02",
            "Bauvoranfragen",
            Some("63"),
            Some(Retention::Years(10)),
            Some(Disposition::Destroy),
        ),
    ];
    let mut ids = std::collections::HashMap::new();
    for (code, title, parent, retention, disposition) in units {
        let unit = core
            .create_plan_unit(
                &admin,
                NewPlanUnit {
                    code: PlanCode::parse(code)?,
                    title: title.into(),
                    parent_id: parent.and_then(|p| ids.get(p).copied()),
                    retention,
                    disposition,
                },
            )
            .await?;
        ids.insert(code, unit.id);
    }
    eprintln!();
    eprintln!("  Willkommen bei Akta. Der Mandant 'demo' wurde angelegt.");
    eprintln!("  Admin-Token (wird nur dieses eine Mal angezeigt):");
    eprintln!();
    println!("  {token}");
    eprintln!();
    eprintln!(
        "  Beispiel: curl -H 'Authorization: Bearer <token>' http://{}/api/v1/plan-units",
        config.listen
    );
    eprintln!();
    Ok(())
}
