use garde::Validate;

use crate::{
    changes::JobField,
    fields::{CustomerName, FileName, JobName, Notes, rules},
    job::Job,
    printer::PrinterId,
    status::JobStatus,
    validation::{FieldViolation, ValidationErrors},
};

/// A job's editable fields as a client wants them, before any rule is checked.
///
/// Both creating a job and editing one end in a `JobDraft` (an edit lays a [`crate::JobPatch`]
/// over the stored job), so both obey exactly the same rules: [`JobDraft::validate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Validate)]
pub struct JobDraft {
    /// Name; trimmed, 1–200 characters.
    #[garde(custom(rules::garde(rules::job_name)))]
    pub job_name: String,
    /// Status; any of the four.
    #[garde(skip)]
    pub status: JobStatus,
    /// Business flag.
    #[garde(skip)]
    pub is_business: bool,
    /// Customer; trimmed, at most 200 characters, blank means none, required for business jobs.
    #[garde(
        custom(rules::garde_opt(rules::customer_name)),
        custom(business_needs_customer(self.is_business))
    )]
    pub customer_name: Option<String>,
    /// Notes; at most 1000 characters.
    #[garde(custom(rules::garde_opt(rules::notes)))]
    pub notes: Option<String>,
    /// File name; at most 255 characters.
    #[garde(custom(rules::garde_opt(rules::file_name)))]
    pub file_name: Option<String>,
    /// Printer id; its shape is checked here, its existence by the service.
    #[garde(custom(printer_id_shape))]
    pub printer_id: Option<String>,
}

fn business_needs_customer(
    is_business: bool,
) -> impl FnOnce(&Option<String>, &()) -> garde::Result {
    move |customer, _| match customer {
        None if is_business => Err(garde::Error::new(rules::BUSINESS_NEEDS_CUSTOMER)),
        _ => Ok(()),
    }
}

fn printer_id_shape(id: &Option<String>, _: &()) -> garde::Result {
    match id {
        Some(id) => PrinterId::parse(id.as_str())
            .map(drop)
            .map_err(|v| garde::Error::new(v.message)),
        None => Ok(()),
    }
}

/// A job's editable fields, every rule checked. Only [`JobDraft::validate`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidJobFields {
    /// Name.
    pub job_name: JobName,
    /// Status.
    pub status: JobStatus,
    /// Business flag.
    pub is_business: bool,
    /// Customer; `Some` whenever `is_business`.
    pub customer_name: Option<CustomerName>,
    /// Notes.
    pub notes: Option<Notes>,
    /// File name.
    pub file_name: Option<FileName>,
    /// Printer; its existence is still to be checked against the printers.
    pub printer_id: Option<PrinterId>,
}

impl JobDraft {
    /// Normalises (trims, blank customer → none) and checks every rule, reporting all
    /// violations together.
    ///
    /// ```
    /// use printdesk_domain::JobDraft;
    /// let errors = JobDraft { job_name: "".into(), notes: Some("x".repeat(1001)), ..JobDraft::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!(errors.to_string(), "job_name must not be empty; notes must be at most 1000 characters");
    /// ```
    pub fn validate(mut self) -> Result<ValidJobFields, ValidationErrors> {
        self.customer_name = self
            .customer_name
            .filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_owned());
        self.job_name = self.job_name.trim().to_owned();

        if let Err(report) = Validate::validate(&self) {
            let mut violations: Vec<FieldViolation> = report
                .iter()
                .map(|(path, error)| FieldViolation::new(path.to_string(), error.message()))
                .collect();
            // garde reports fields in alphabetical order; report them in the job table's
            // order instead (a stable sort keeps one field's violations in garde's order).
            violations.sort_by_key(|v| JobField::from_name(&v.field));
            return Err(ValidationErrors::from_violations(violations)
                .expect("garde reports at least one error on failure"));
        }

        Ok(ValidJobFields {
            job_name: JobName::new_unchecked(self.job_name),
            status: self.status,
            is_business: self.is_business,
            customer_name: self.customer_name.map(CustomerName::new_unchecked),
            notes: self.notes.map(Notes::new_unchecked),
            file_name: self.file_name.map(FileName::new_unchecked),
            printer_id: self
                .printer_id
                .map(|id| PrinterId::parse(id).expect("shape checked by validate")),
        })
    }
}

impl From<&Job> for JobDraft {
    fn from(job: &Job) -> Self {
        Self {
            job_name: job.job_name.to_string(),
            status: job.status,
            is_business: job.is_business,
            customer_name: job.customer_name.as_ref().map(ToString::to_string),
            notes: job.notes.as_ref().map(ToString::to_string),
            file_name: job.file_name.as_ref().map(ToString::to_string),
            printer_id: job.printer_id.as_ref().map(ToString::to_string),
        }
    }
}
