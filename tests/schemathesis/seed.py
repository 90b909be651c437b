"""Seeds a fresh printdesk server for the schemathesis run, and writes the run's config.

Usage: seed.py BASE_URL TOKEN CONFIG_OUT

Creates two printers and a dozen jobs in every status (through the API, as a client would),
then writes CONFIG_OUT: schemathesis.toml (beside this script) plus dictionaries holding their
ids, so that half of the generated path ids (and bulk-edit ids, and printer ids in job bodies)
name real objects and the run exercises reads, edits, moves and deletes of stored jobs, not
only 404s. Standard library only.
"""

import json
import pathlib
import sys
import urllib.request

base, token, config_out = sys.argv[1:4]


def call(method, path, body=None):
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


printers = [
    call("POST", "/printers", {"id": "st-prusa", "name": "Prusa MK4", "printer_type": "prusa"}),
    call("POST", "/printers", {"id": "st-x1c", "name": "X1C", "printer_type": "bambu_lab",
                               "location": "Shelf A"}),
]
jobs = []
for n in range(12):
    business = n % 2 == 0
    job = call("POST", "/jobs", {
        "job_name": f"Seed job {n}",
        "is_business": business,
        "customer_name": "ACME" if business else None,
        "printer_id": printers[n % 2]["id"] if n % 3 else None,
        "notes": "'; DROP TABLE jobs; --" if n == 5 else None,
    })
    # Spread the jobs over every status, through the workflow (timestamps set).
    for status in [[], ["running"], ["running", "completed"], ["failed"]][n % 4]:
        job = call("POST", f"/jobs/{job['id']}/status", {"status": status})
    jobs.append(job)

job_ids = [job["id"] for job in jobs]
printer_ids = [printer["id"] for printer in printers]


def toml_list(values):
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


settings = (pathlib.Path(__file__).parent / "schemathesis.toml").read_text(encoding="utf-8")
with open(config_out, "w", encoding="utf-8") as config:
    config.write(settings)
    config.write(f"""
# Added by tests/schemathesis/seed.py for this run: its seeded objects.
[dictionaries.job_ids]
values = {toml_list(job_ids)}

[dictionaries.printer_ids]
values = {toml_list(printer_ids)}

# One entry per operation: where several entries match, schemathesis takes `parameters` from
# the first one only.
[[operations]]
include-path = "/api/v1/jobs/{{id}}"
include-method = "PUT"
parameters = {{ "path.id" = {{ dictionary = "job_ids", probability = 0.5 }}, "body.printer_id" = {{ dictionary = "printer_ids", probability = 0.5 }} }}

[[operations]]
include-path-regex = "^/api/v1/jobs/[{{]id[}}]"
parameters = {{ "path.id" = {{ dictionary = "job_ids", probability = 0.5 }} }}

[[operations]]
include-path-regex = "^/api/v1/printers/[{{]id[}}]"
parameters = {{ "path.id" = {{ dictionary = "printer_ids", probability = 0.5 }} }}

[[operations]]
include-path = "/api/v1/jobs/bulk-edit"
parameters = {{ "body.ids[*]" = {{ dictionary = "job_ids", probability = 0.7 }} }}

[[operations]]
include-path = "/api/v1/jobs"
include-method = "POST"
parameters = {{ "body.printer_id" = {{ dictionary = "printer_ids", probability = 0.5 }} }}
""")

print(f"seeded {len(printer_ids)} printers and {len(job_ids)} jobs")
