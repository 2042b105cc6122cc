//! A small hand-written message table: German first, English by the user's choice (a cookie
//! set on `/sprache/{de|en}`). Keys are stable ids; a missing key shows itself, and a unit
//! test checks every key used in the templates exists.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The message `key` in this language.
    pub fn t(self, key: &str) -> &'static str {
        self.get(key).unwrap_or_else(|| {
            tracing::warn!(key, "missing UI message");
            "??"
        })
    }

    /// The message `key`, if the table has it.
    pub fn get(self, key: &str) -> Option<&'static str> {
        MESSAGES
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, de, en)| match self {
                Lang::De => *de,
                Lang::En => *en,
            })
    }
}

/// (key, German, English)
const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "Akta – E-Akte", "Akta – e-records"),
    ("skip", "Zum Inhalt springen", "Skip to content"),
    ("nav.main", "Hauptnavigation", "Main navigation"),
    ("nav.workplace", "Mein Arbeitsplatz", "My workplace"),
    ("nav.plan", "Aktenplan", "File plan"),
    ("nav.admin", "Erscheinungsbild", "Branding"),
    ("nav.archive", "Aussonderung", "Disposal"),
    ("archive.title", "Fällig zur Aussonderung", "Due for disposal"),
    ("archive.intro", "Geschlossene Akten, deren Aufbewahrungsfrist abgelaufen ist. Wählen Sie die Akten, die Sie dem Archiv anbieten.", "Closed files whose retention period has ended. Choose the files to offer to the archive."),
    ("archive.filter", "Eingrenzen", "Filter"),
    ("archive.filter.unit", "Aktenplaneinheit", "File plan unit"),
    ("archive.filter.unit.all", "– alle –", "– all –"),
    ("archive.filter.year", "Fällig im Jahr", "Due in year"),
    ("archive.filter.apply", "Anwenden", "Apply"),
    ("archive.none", "Keine Akte ist fällig.", "No file is due."),
    ("archive.choose", "Auswählen", "Select"),
    ("archive.due_on", "Fällig seit", "Due since"),
    ("archive.closed_on", "zdA am", "Closed on"),
    ("archive.offer", "Dem Archiv anbieten (Anbieteverzeichnis)", "Offer to the archive"),
    ("archive.transfers", "Aussonderungen", "Disposals"),
    ("archive.transfer", "Aussonderung", "Disposal"),
    ("archive.no_transfers", "Noch keine Aussonderung.", "No disposal yet."),
    ("archive.started", "Begonnen", "Started"),
    ("archive.state", "Stand", "State"),
    ("archive.state.angeboten", "angeboten", "offered"),
    ("archive.state.bewertet", "bewertet", "appraised"),
    ("archive.state.übergeben", "übergeben", "handed over"),
    ("archive.state.archiviert", "archiviert", "archived"),
    ("archive.state.vernichtet", "vernichtet", "destroyed"),
    ("archive.state.abgeschlossen", "abgeschlossen", "finished"),
    ("archive.rating", "Bewertung", "Rating"),
    ("archive.rating.A", "A – übernehmen", "A – archive"),
    ("archive.rating.V", "V – vernichten", "V – destroy"),
    ("archive.type.file", "Akte", "File"),
    ("archive.type.case", "Vorgang", "Case"),
    ("archive.objects", "Angebotene Akten und Vorgänge", "Offered files and cases"),
    ("archive.messages", "Nachrichten", "Messages"),
    ("archive.direction.out", "an das Archiv", "to the archive"),
    ("archive.direction.in", "vom Archiv", "from the archive"),
    ("archive.download.0501", "Anbieteverzeichnis (0501) herunterladen", "Download the offer (0501)"),
    ("archive.download.0505", "Empfangsbestätigung der Bewertung (0505) herunterladen", "Download the receipt of the appraisal (0505)"),
    ("archive.download.0503", "Aussonderung (0503) mit den Dokumenten herunterladen", "Download the transfer (0503) with the documents"),
    ("archive.upload", "Nachricht des Archivs einspielen", "Load a message of the archive"),
    ("archive.upload.hint", "Bewertungsverzeichnis (0502), Empfangs- oder Importbestätigung (0504, 0507, 0506) als XML oder ZIP.", "Appraisal (0502), receipt or import confirmation (0504, 0507, 0506) as XML or ZIP."),
    ("archive.upload.file", "Nachricht", "Message"),
    ("archive.upload.submit", "Einspielen", "Load"),
    ("archive.received", "Die Nachricht wurde eingespielt.", "The message was loaded."),
    ("archive.refused", "Die Nachricht wurde nicht eingespielt; nichts wurde geändert:", "The message was not loaded; nothing was changed:"),
    ("archive.protocol", "Löschprotokoll", "Deletion record"),
    ("archive.protocol.intro", "Jede Akte, die nach einer Aussonderung vom Archiv übernommen oder vernichtet wurde.", "Every file taken by the archive or destroyed after a disposal."),
    ("archive.protocol.none", "Noch wurde keine Akte gelöscht.", "No file has been deleted yet."),
    ("archive.protocol.csv", "Als CSV herunterladen", "Download as CSV"),
    ("archive.outcome", "Ergebnis", "Outcome"),
    ("archive.archive_reference", "Archivkennung", "Archive reference"),
    ("archive.disposed", "Gelöscht am", "Deleted on"),
    ("archive.by", "durch", "by"),
    ("archive.documents", "Dokumente", "Documents"),
    ("nav.logout", "Abmelden", "Log out"),
    ("nav.language", "English", "Deutsch"),
    ("nav.language.code", "en", "de"),
    ("nav.user", "Angemeldet als", "Logged in as"),
    ("search.label", "Suche in allen Akten", "Search all files"),
    ("search.button", "Suchen", "Search"),
    ("search.page_form", "Suche mit Filtern", "Search with filters"),
    ("search.title", "Suche", "Search"),
    ("search.results", "Treffer", "Results"),
    ("search.none", "Keine Treffer.", "No results."),
    ("search.fuzzy", "Keine exakten Treffer – ähnliche Schreibweisen:", "No exact matches – similar spellings:"),
    ("search.filters", "Filter", "Filters"),
    ("search.kind", "Dokumentart", "Document kind"),
    ("search.plan_unit", "Aktenplan", "File plan"),
    ("search.year", "Jahr", "Year"),
    ("search.all", "alle", "all"),
    ("search.apply", "Filter anwenden", "Apply filters"),
    ("search.reset", "Filter zurücksetzen", "Reset filters"),
    ("search.unavailable", "Die Suche ist auf diesem Server nicht eingerichtet.", "Search is not enabled on this server."),
    ("search.open_file", "Akte öffnen", "Open file"),
    ("search.more", "Weitere Treffer", "More results"),
    ("login.title", "Anmelden", "Log in"),
    ("login.tenant", "Behörde (Kennung)", "Authority (id)"),
    ("login.username", "Benutzername", "Username"),
    ("login.password", "Passwort", "Password"),
    ("login.submit", "Anmelden", "Log in"),
    ("login.failed", "Anmeldung fehlgeschlagen: Benutzername oder Passwort falsch, oder das Konto ist vorübergehend gesperrt.", "Login failed: wrong username or password, or the account is temporarily locked."),
    ("login.required", "Bitte füllen Sie alle Felder aus.", "Please fill in all fields."),
    ("login.cookie", "Die Anmeldung ist abgelaufen. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.", "The login form expired. Please reload the page and try again."),
    ("login.logged_out", "Sie sind abgemeldet.", "You are logged out."),
    ("workplace.title", "Mein Arbeitsplatz", "My workplace"),
    ("workplace.due", "Wiedervorlagen (heute fällig und überfällig)", "Resubmissions (due today and overdue)"),
    ("workplace.due.none", "Keine fälligen Wiedervorlagen.", "No resubmissions due."),
    ("workplace.overdue", "überfällig", "overdue"),
    ("workplace.today", "heute", "today"),
    ("workplace.files", "Meine offenen Akten", "My open files"),
    ("workplace.files.none", "Keine offenen Akten.", "No open files."),
    ("workplace.cases", "Meine offenen Vorgänge", "My open cases"),
    ("workplace.cases.none", "Keine offenen Vorgänge.", "No open cases."),
    ("workplace.recent", "Zuletzt geändert", "Recently changed"),
    ("workplace.recent.none", "Noch keine Änderungen.", "No changes yet."),
    ("plan.title", "Aktenplan", "File plan"),
    ("plan.tree", "Aktenplan-Baum", "File plan tree"),
    ("plan.empty", "Der Aktenplan ist noch leer.", "The file plan is still empty."),
    ("plan.files_of", "Akten in", "Files in"),
    ("plan.choose", "Wählen Sie links eine Einheit des Aktenplans.", "Choose a file plan unit on the left."),
    ("plan.no_files", "Keine Akten in dieser Einheit.", "No files in this unit."),
    ("plan.count", "Akten", "files"),
    ("file.reference", "Aktenzeichen", "File reference"),
    ("file.subject", "Betreff", "Subject"),
    ("file.lead", "Federführung", "Lead unit"),
    ("file.lead.none", "– keine –", "– none –"),
    ("file.status", "Status", "Status"),
    ("file.status.offen", "offen", "open"),
    ("file.status.zdA", "zdA (zu den Akten)", "closed (zdA)"),
    ("file.period", "Laufzeit", "Period"),
    ("file.retention", "Aufbewahrung", "Retention"),
    ("file.retention.years", "Jahre", "years"),
    ("file.retention.unlimited", "unbefristet", "unlimited"),
    ("file.disposition.A", "A (archivwürdig)", "A (archive)"),
    ("file.disposition.B", "B (bewerten)", "B (appraise)"),
    ("file.disposition.V", "V (vernichten)", "V (destroy)"),
    ("file.due", "Fällig zur Aussonderung", "Due for disposal"),
    ("file.hold", "Aussonderungssperre", "Legal hold"),
    ("file.hold.until", "bis", "until"),
    ("file.hold.by", "gesetzt von", "set by"),
    ("file.confidentiality", "Vertraulichkeit", "Confidentiality"),
    ("file.conf.normal", "normal", "normal"),
    ("file.conf.vertraulich", "vertraulich", "confidential"),
    ("file.conf.streng_vertraulich", "streng vertraulich", "strictly confidential"),
    ("file.plan_unit", "Aktenplaneinheit", "File plan unit"),
    ("file.new", "Neue Akte anlegen", "Create file"),
    ("file.create", "Akte anlegen", "Create file"),
    ("file.edit", "Akte bearbeiten", "Edit file"),
    ("file.save", "Speichern", "Save"),
    ("file.cancel", "Abbrechen", "Cancel"),
    ("file.registers", "Register", "Registers"),
    ("file.register.direct", "Dokumente der Akte", "Documents of the file"),
    ("file.register.history", "Verlauf", "History"),
    ("file.no_documents", "Keine Dokumente in diesem Register.", "No documents in this register."),
    ("file.close", "zdA verfügen", "Close (zdA)"),
    ("file.close.confirm", "Akte zu den Akten (zdA) verfügen?", "Close the file (zdA)?"),
    ("file.close.explain", "Danach können keine Vorgänge und Dokumente mehr hinzugefügt werden; die Aufbewahrungsfrist beginnt. Die Akte kann mit Begründung wieder eröffnet werden.", "Afterwards no cases or documents can be added; the retention period starts. The file can be reopened with a reason."),
    ("file.close.yes", "Ja, zdA verfügen", "Yes, close the file"),
    ("file.reopen", "Wieder eröffnen", "Reopen"),
    ("file.reopen.reason", "Begründung", "Reason"),
    ("file.reopen.submit", "Akte wieder eröffnen", "Reopen the file"),
    ("file.closed_note", "Diese Akte ist zdA verfügt.", "This file is closed (zdA)."),
    ("file.history.at", "Zeitpunkt", "Time"),
    ("file.history.actor", "Wer", "Who"),
    ("file.history.action", "Aktion", "Action"),
    ("file.changed", "Die Akte wurde inzwischen von jemand anderem geändert. Bitte prüfen Sie den aktuellen Stand.", "Someone else changed the file meanwhile. Please check its current state."),
    ("wv.title", "Wiedervorlage", "Resubmission"),
    ("wv.date", "Wiedervorlage am", "Resubmit on"),
    ("wv.set", "Wiedervorlage setzen", "Set resubmission"),
    ("wv.clear", "Wiedervorlage löschen", "Clear resubmission"),
    ("wv.none", "Keine Wiedervorlage gesetzt.", "No resubmission set."),
    ("wv.current", "Wiedervorlage:", "Resubmission:"),
    ("case.title", "Vorgang", "Case"),
    ("case.reference", "Vorgangszeichen", "Case reference"),
    ("case.new", "Neuer Vorgang", "New case"),
    ("case.create", "Vorgang anlegen", "Create case"),
    ("case.close", "Vorgang zdA verfügen", "Close case (zdA)"),
    ("case.close.confirm", "Vorgang zu den Akten (zdA) verfügen?", "Close the case (zdA)?"),
    ("case.close.explain", "Danach können keine Dokumente mehr in diesen Vorgang abgelegt werden. Er kann mit Begründung wieder eröffnet werden.", "Afterwards no documents can be filed into this case. It can be reopened with a reason."),
    ("case.reopen", "Vorgang wieder eröffnen", "Reopen case"),
    ("case.closed_note", "Dieser Vorgang ist zdA verfügt.", "This case is closed (zdA)."),
    ("case.edit", "Vorgang bearbeiten", "Edit case"),
    ("doc.edit", "Metadaten bearbeiten", "Edit metadata"),
    ("case.none", "Noch keine Vorgänge.", "No cases yet."),
    ("doc.title", "Titel", "Title"),
    ("doc.kind", "Art", "Kind"),
    ("doc.date", "Datum", "Date"),
    ("doc.sender", "Absender", "Sender"),
    ("doc.recipient", "Empfänger", "Recipient"),
    ("doc.correspondent", "Absender/Empfänger", "Sender/recipient"),
    ("doc.new", "Dokument hochladen", "Upload document"),
    ("doc.file", "Datei", "File"),
    ("doc.upload", "Hochladen", "Upload"),
    ("doc.target", "Ablegen in", "File into"),
    ("doc.versions", "Versionen", "Versions"),
    ("doc.version", "Version", "Version"),
    ("doc.size", "Größe", "Size"),
    ("doc.author", "Von", "By"),
    ("doc.created", "Erstellt", "Created"),
    ("doc.download", "Herunterladen", "Download"),
    ("doc.preview", "Vorschau", "Preview"),
    ("doc.preview.none", "Für diese Datei gibt es keine Vorschau; bitte laden Sie sie herunter.", "There is no preview for this file; please download it."),
    ("doc.preview.pending", "Der Text wird noch ausgelesen; die Vorschau erscheint in Kürze.", "The text is still being extracted; the preview will appear shortly."),
    ("doc.new_version", "Neue Version hochladen", "Upload new version"),
    ("doc.back", "Zurück zur Akte", "Back to the file"),
    ("doc.kind.Eingang", "Eingang", "Incoming"),
    ("doc.kind.Ausgang", "Ausgang", "Outgoing"),
    ("doc.kind.Vermerk", "Vermerk", "Note"),
    ("doc.kind.Bescheid", "Bescheid", "Decision"),
    ("doc.kind.Sonstiges", "Sonstiges", "Other"),
    ("note.new", "Vermerk schreiben", "Write a note"),
    ("note.text", "Text des Vermerks", "Text of the note"),
    ("note.save", "Vermerk speichern", "Save note"),
    ("drop.title", "Dateien ablegen", "Drop files"),
    ("drop.hint", "Dateien hierher ziehen oder auswählen – mehrere auf einmal möglich.", "Drag files here or choose them – several at once."),
    ("drop.choose", "Dateien auswählen", "Choose files"),
    ("drop.version_hint", "Datei auf ein Dokument ziehen, um eine neue Version abzulegen.", "Drop a file onto a document to add a new version."),
    ("action.open", "Öffnen", "Open"),
    ("field.required", "Bitte ausfüllen.", "Please fill in."),
    ("field.too_long", "Der Text ist zu lang.", "The text is too long."),
    ("field.invalid_date", "Bitte ein Datum angeben, z. B. 2026-12-01.", "Please enter a date, e.g. 2026-12-01."),
    ("field.invalid_choice", "Bitte einen Eintrag aus der Liste wählen.", "Please choose an entry from the list."),
    ("field.invalid", "Ungültige Eingabe.", "Invalid input."),
    ("form.errors", "Bitte prüfen Sie die markierten Felder.", "Please check the marked fields."),
    ("form.saved", "Gespeichert.", "Saved."),
    ("admin.title", "Erscheinungsbild der Behörde", "Branding of the authority"),
    ("admin.header_name", "Name im Kopf der Seite", "Name in the page header"),
    ("admin.accent", "Akzentfarbe (z. B. #005a9c)", "Accent colour (e.g. #005a9c)"),
    ("admin.accent.contrast", "Die Farbe ist zu hell: weiße Schrift darauf wäre schlecht lesbar (Kontrast unter 4,5:1).", "The colour is too light: white text on it would be hard to read (contrast below 4.5:1)."),
    ("admin.logo", "Wappen oder Logo (PNG, JPEG, GIF oder WebP, höchstens 256 KiB)", "Coat of arms or logo (PNG, JPEG, GIF or WebP, at most 256 KiB)"),
    ("admin.logo.invalid", "Bitte ein Bild im Format PNG, JPEG, GIF oder WebP bis 256 KiB wählen.", "Please choose a PNG, JPEG, GIF or WebP image up to 256 KiB."),
    ("admin.logo.remove", "Logo entfernen", "Remove logo"),
    ("admin.logo.current", "Aktuelles Logo", "Current logo"),
    ("admin.logo.alt", "Wappen", "Coat of arms"),
    ("action.file.created", "Akte angelegt", "File created"),
    ("action.file.updated", "Akte geändert", "File changed"),
    ("action.file.closed", "Akte zdA verfügt", "File closed"),
    ("actor.api", "Schnittstelle", "API"),
    ("actor.system", "System", "System"),
    ("actor.operator", "Betrieb", "Operations"),
    ("action.file.reopened", "Akte wieder eröffnet", "File reopened"),
    ("action.file.read", "Gelesen (vertraulich)", "Read (confidential)"),
    ("action.file.resubmission_set", "Wiedervorlage gesetzt", "Resubmission set"),
    ("action.file.resubmission_cleared", "Wiedervorlage gelöscht", "Resubmission cleared"),
    ("action.case.created", "Vorgang angelegt", "Case created"),
    ("action.case.resubmission_set", "Wiedervorlage (Vorgang) gesetzt", "Resubmission (case) set"),
    ("action.case.resubmission_cleared", "Wiedervorlage (Vorgang) gelöscht", "Resubmission (case) cleared"),
    ("action.case.closed", "Vorgang zdA verfügt", "Case closed"),
    ("action.case.reopened", "Vorgang wieder eröffnet", "Case reopened"),
    ("action.case.updated", "Vorgang geändert", "Case changed"),
    ("action.document.updated", "Dokument geändert", "Document changed"),
    ("action.document.created", "Dokument abgelegt", "Document filed"),
    ("action.document.version_added", "Neue Version abgelegt", "New version filed"),
    ("action.file_access.granted", "Zugriff gewährt", "Access granted"),
    ("action.file_access.revoked", "Zugriff entzogen", "Access revoked"),
    ("error.title", "Fehler", "Error"),
    ("error.404", "Diese Seite oder dieses Objekt gibt es nicht – oder Sie haben keinen Zugriff darauf.", "This page or object does not exist – or you have no access to it."),
    ("error.403", "Dafür fehlt Ihnen die Berechtigung.", "You are not allowed to do this."),
    ("error.csrf", "Das Formular ist abgelaufen oder stammt nicht von dieser Seite. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.", "The form expired or did not come from this site. Please reload the page and try again."),
    ("error.400", "Die Anfrage ist ungültig.", "The request is invalid."),
    ("error.409", "Das geht im aktuellen Zustand nicht.", "This is not possible in the current state."),
    ("error.413", "Die Datei ist zu groß.", "The file is too large."),
    ("error.429", "Zu viele Anfragen. Bitte warten Sie einen Moment.", "Too many requests. Please wait a moment."),
    ("error.500", "Ein interner Fehler ist aufgetreten.", "An internal error occurred."),
    ("error.503", "Der Dienst ist vorübergehend nicht verfügbar.", "The service is temporarily unavailable."),
    ("error.request_id", "Vorgangsnummer für den Support", "Request id for support"),
    ("error.home", "Zur Startseite", "To the start page"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_used_in_templates_exists_once() {
        let mut keys: Vec<&str> = MESSAGES.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "duplicate message keys");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).expect("templates") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            for part in text.split(".t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or("");
                assert!(
                    keys.binary_search(&key).is_ok(),
                    "{}: unknown message key {key}",
                    path.display()
                );
            }
        }
    }
}
