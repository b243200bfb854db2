// The manager's "Releases by hand" report: every release by hand in a
// period (by one person or everyone) with who approved it, the note and the
// holds it overrode, and per person and currency how many and how much; as
// a table and as CSV.

import { describe, downloadCsv, get, seg } from "./api";
import type { Ctx } from "./context";
import { firstOfMonth, h, replace, foldable, today, uid, when, filterForm } from "./dom";
import { grouped, money } from "./money";
import { reasonList } from "./orders";
import { assignable, loadPeople } from "./people";
import type { ReleasesReport } from "./types";

export function releasesCard(ctx: Ctx): { element: HTMLElement; load: () => Promise<void> } {
  const titleId = uid("releases-title");
  const from = h("input", { id: uid("rel-from"), type: "date", name: "from", value: firstOfMonth(today()) });
  const to = h("input", { id: uid("rel-to"), type: "date", name: "to", value: today() });
  const by = h("select", { id: uid("rel-by"), name: "by" }, h("option", { value: "" }, "Everyone"));
  void loadPeople()
    .then((list) => by.append(...assignable(list).map((p) => h("option", { value: p.name }, p.name))))
    .catch(() => {});
  const form = filterForm(
    { "aria-label": "Releases by hand: period and person" },
    () => void load(),
    h("label", { for: from.id }, "From"),
    from,
    h("label", { for: to.id }, "to"),
    to,
    h("label", { for: by.id }, "By"),
    by,
    h("button", { type: "submit" }, "Show releases"),
  );
  const download = h("button", { type: "button" }, "Download CSV");
  const body = h("div", {});
  const element = h(
    "section",
    { class: "card wide", "aria-labelledby": titleId },
    h("div", { class: "card-head" }, h("h3", { id: titleId }, "Releases by hand"), download),
    form,
    body,
  );

  /** The report's query, or null (and an alert) when the period is not one. */
  const query = (): string | null => {
    for (const field of [from, to]) field.removeAttribute("aria-invalid");
    const refuse = (field: HTMLInputElement, message: string) => {
      field.setAttribute("aria-invalid", "true");
      ctx.alert(`Releases by hand: ${message}`);
      field.focus();
      return null;
    };
    if (!from.value) return refuse(from, "give the first day.");
    if (!to.value) return refuse(to, "give the last day.");
    if (to.value < from.value) return refuse(to, "the last day must not be before the first.");
    const params = new URLSearchParams({ from: from.value, to: to.value });
    if (by.value) params.set("by", by.value);
    return `/reports/releases?${params}`;
  };

  download.addEventListener("click", async () => {
    const path = query();
    if (path === null) return;
    download.disabled = true;
    try {
      ctx.announce(`Downloaded ${await downloadCsv(path, `releases-${from.value}-${to.value}.csv`)}.`);
    } catch (failure) {
      ctx.alert(`The releases report could not be downloaded. ${describe(failure)}`);
    } finally {
      download.disabled = false;
    }
  });

  async function load(): Promise<void> {
    const path = query();
    if (path === null) return;
    body.setAttribute("aria-busy", "true");
    try {
      const report = await get<ReleasesReport>(path);
      if (!ctx.current()) return;
      render(report);
    } catch (failure) {
      if (!ctx.current()) return;
      replace(
        body,
        h("div", { class: "error", role: "alert" }, h("p", {}, `The releases report could not be loaded. ${describe(failure)}`)),
      );
    } finally {
      body.setAttribute("aria-busy", "false");
    }
  }

  function render(report: ReleasesReport): void {
    const whose = report.by ? ` by ${report.by}` : "";
    if (report.releases.length === 0) {
      replace(body, h("p", { class: "empty" }, `No releases by hand${whose} from ${report.from} to ${report.to}.`));
      return;
    }
    replace(
      body,
      h(
        "div",
        { class: "table-wrap narrow" },
        foldable(
          h(
            "table",
            { class: "releases-people" },
            h("caption", {}, `Releases by hand${whose}, ${report.from} to ${report.to}, per person and currency`),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                h("th", { scope: "col" }, "Person"),
                h("th", { scope: "col" }, "Currency"),
                ["Releases", "Amount", "With a manager's approval"].map((t) => h("th", { scope: "col", class: "num" }, t)),
              ),
            ),
            h(
              "tbody",
              {},
              report.people.map((p) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row" }, p.person),
                  h("td", {}, p.currency),
                  h("td", { class: "num" }, grouped(String(p.releases))),
                  h("td", { class: "num" }, grouped(p.amount)),
                  h("td", { class: "num" }, grouped(String(p.approved))),
                ),
              ),
            ),
          ),
        ),
      ),
      h(
        "div",
        { class: "table-wrap" },
        foldable(
          h(
            "table",
            { class: "releases" },
            h("caption", {}, "Each release, oldest first, with the holds it overrode"),
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ["Released", "Order", "Customer"].map((t) => h("th", { scope: "col" }, t)),
                h("th", { scope: "col", class: "num" }, "Amount"),
                ["By", "Approved by", "Note", "Holds overridden"].map((t) => h("th", { scope: "col" }, t)),
              ),
            ),
            h(
              "tbody",
              {},
              report.releases.map((r) =>
                h(
                  "tr",
                  { "data-order-id": r.order_id },
                  h("td", { class: "date" }, when(r.released_at)),
                  h("th", { scope: "row" }, h("a", { href: `#/order/${seg(r.order_id)}` }, r.order_id)),
                  h("td", {}, h("a", { href: `#/customer/${seg(r.customer_id)}` }, r.customer_name || r.customer_id)),
                  h("td", { class: "num" }, money(r.amount, r.currency)),
                  h("td", {}, r.person),
                  h("td", {}, r.approved_by ?? "—"),
                  h("td", { class: "note" }, r.note ?? ""),
                  h("td", {}, r.overridden.length ? reasonList(r.overridden, r.currency) : "—"),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  return { element, load };
}
