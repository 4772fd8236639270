// What a frontend does with the generated client, checked against the live service: sign in, create a
// customer, find it with q, change it with If-Match, upload its photo and read photo_url, import a CSV file (raw
// and as a form) and read the reports. Compiled with
// tsc --strict: a type error fails the test before anything runs; an unexpected status exits non-zero.
import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import type { components, paths } from "./crm-api.js";

type Customer = components["schemas"]["CustomerOut"];
type Problem = components["schemas"]["Problem"];

function setting(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
}

function expectStatus(step: string, response: Response, status: number, body?: unknown): void {
  if (response.status !== status) {
    console.error(`${step}: expected ${status}, got ${response.status}`, JSON.stringify(body));
    process.exit(1);
  }
  console.log(`${step}: ${status}`);
}

const baseUrl = setting("CRM_BASE_URL");
const crm = createClient<paths>({ baseUrl });

// The token endpoint takes a form (RFC 6749), not JSON.
const signIn = await crm.POST("/api/v1/auth/token", {
  body: { grant_type: "password", username: setting("CRM_EMAIL"), password: setting("CRM_PASSWORD") },
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  bodySerializer(body) {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(body ?? {})) {
      if (typeof value === "string") {
        form.set(key, value);
      }
    }
    return form;
  },
});
expectStatus("signIn", signIn.response, 200, signIn.error);
const accessToken: string = signIn.data!.access_token;
crm.use({
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${accessToken}`);
    return request;
  },
});

const created = await crm.POST("/api/v1/customers", {
  body: { id: "C-2001", name: "Ada", surname: "Lovelace", email: "ada.lovelace@example.com" },
});
expectStatus("createCustomer", created.response, 201, created.error);
const customer: Customer = created.data!;
const etag = created.response.headers.get("ETag");
if (etag === null) {
  throw new Error("createCustomer: no ETag");
}

const listed = await crm.GET("/api/v1/customers", { params: { query: { q: "lovelace", sort: "name", limit: 10 } } });
expectStatus("listCustomers", listed.response, 200, listed.error);
if (!listed.data!.items.some((item: Customer) => item.id === customer.id)) {
  throw new Error("listCustomers: the new customer is not found by q");
}

// Over a fair-use quota every operation answers 429, a typed problem naming the policies the request broke; the
// RateLimit headers (absent here: this server runs without a limit) are typed as documented.
type QuotaProblem = paths["/api/v1/customers"]["get"]["responses"][429]["content"]["application/problem+json"];
type Policy = NonNullable<QuotaProblem["violated-policies"]>[number];
const overQuota: QuotaProblem | undefined = listed.error;
const broken: Policy[] = overQuota?.["violated-policies"] ?? [];
type ListHeaders = paths["/api/v1/customers"]["get"]["responses"][200]["headers"];
const rateLimit: ListHeaders["RateLimit"] = listed.response.headers.get("RateLimit") ?? undefined;
console.log(`listCustomers: RateLimit ${rateLimit ?? "absent"}, policies broken: ${broken.length}`);

const path = { customer_id: customer.id };
const patched = await crm.PATCH("/api/v1/customers/{customer_id}", {
  params: { path, header: { "If-Match": etag } },
  body: { phone: "+44 20 7946 0958", notes: null },
});
expectStatus("updateCustomer", patched.response, 200, patched.error);
const stale = await crm.PATCH("/api/v1/customers/{customer_id}", {
  params: { path, header: { "If-Match": etag } },
  body: { phone: "+44 20 7946 0000" },
});
expectStatus("updateCustomer with a stale ETag", stale.response, 412);
const problem: Problem | undefined = stale.error;
if (problem?.status !== 412) {
  throw new Error("updateCustomer: the 412 is not problem+json");
}

const photo = new Blob([readFileSync(setting("CRM_PHOTO"))], { type: "image/png" });
const uploaded = await crm.PUT("/api/v1/customers/{customer_id}/photo", {
  params: { path },
  body: { file: photo },
  bodySerializer(body) {
    if (body instanceof Blob) {
      return body;
    }
    const form = new FormData();
    form.append("file", body!.file, "ada.png");
    return form;
  },
});
expectStatus("uploadCustomerPhoto", uploaded.response, 200, uploaded.error);
const photoUrl: string | null = uploaded.data!.photo_url;
if (photoUrl === null || uploaded.data!.photo_thumbnail_url === null) {
  throw new Error("uploadCustomerPhoto: no photo_url");
}
const image = await fetch(photoUrl);
expectStatus("photo_url", image, 200);
console.log(`photo_url: ${image.headers.get("content-type")}`);

// A CSV import, both ways the document offers: the raw file as text/csv, and the form field "file".
type ImportReport = components["schemas"]["ImportReportOut"];
function csvBody(body: Blob | { file: Blob } | undefined): Blob | FormData {
  if (body instanceof Blob) {
    return body;
  }
  const form = new FormData();
  form.append("file", body!.file, "customers.csv");
  return form;
}
function reportOf(step: string, report: ImportReport | undefined): ImportReport {
  if (report === undefined || report.errors.length > 0) {
    throw new Error(`${step}: no clean report: ${JSON.stringify(report)}`);
  }
  console.log(`${step} report: created ${report.created}, updated ${report.updated}, dry_run ${report.dry_run}`);
  return report;
}
const csvFile = readFileSync(setting("CRM_CSV"));
const asText = await crm.POST("/api/v1/customers/import", {
  params: { query: { mode: "create" } },
  body: new Blob([csvFile], { type: "text/csv" }),
  headers: { "Content-Type": "text/csv" },
  bodySerializer: csvBody,
});
expectStatus("importCustomers as text/csv", asText.response, 200, asText.error);
reportOf("importCustomers as text/csv", asText.data);
const asForm = await crm.POST("/api/v1/customers/import", {
  params: { query: { mode: "upsert", dry_run: false } },
  body: { file: new Blob([csvFile], { type: "text/csv" }) },
  bodySerializer: csvBody,
});
expectStatus("importCustomers as multipart", asForm.response, 200, asForm.error);
reportOf("importCustomers as multipart", asForm.data);
