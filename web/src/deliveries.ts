// For managers: how pushing decisions back to the ERP stands — pending and
// failed events, the last success and failure — and failed events pushed
// again, one by one or all at once.

import { describe, get, post } from "./api";
import type { Ctx } from "./context";
import { h, replace, uid, when } from "./dom";
import { listOf, type Answer, type DeliveryHealth, type FailedEvent, type RequestBody } from "./types";

export function deliveriesSection(ctx: Ctx): { element: HTMLElement; load: () => Promise<void> } {
  const titleId = uid("deliveries-title");
  const health = h("div", { "aria-live": "polite" });
  const failed = h("div", {});
  const element = h(
    "section",
    { "aria-labelledby": titleId },
    h("div", { class: "section-head" }, h("h2", { id: titleId }, "Delivery to the ERP")),
    health,
    failed,
  );

  async function load(): Promise<void> {
    try {
      const [status, list] = await Promise.all([
        get<DeliveryHealth>("/events/deliveries"),
        get<unknown>("/events/deliveries/failed"),
      ]);
      if (!ctx.current()) return;
      replace(health, healthView(status));
      replace(failed, failedView(listOf<FailedEvent>(list, "events")));
    } catch (failure) {
      if (!ctx.current()) return;
      replace(health, h("p", { class: "error", role: "alert" }, `Delivery health could not be loaded. ${describe(failure)}`));
      replace(failed);
    }
  }

  function healthView(status: DeliveryHealth): HTMLElement {
    const figure = (label: string, value: string) => h("div", { class: "figure" }, h("dt", {}, label), h("dd", {}, value));
    return h(
      "div",
      {},
      h(
        "p",
        { class: status.pushing ? "" : "muted" },
        status.pushing
          ? `Events are pushed to ${status.url}.`
          : "Events are not pushed (no erp_events_url): the ERP reads them from GET /events.",
      ),
      h(
        "dl",
        { class: "figures" },
        figure("Pending", String(status.pending)),
        figure("Failed", String(status.failed)),
        figure("Last success", status.last_success_at ? when(status.last_success_at) : "never"),
        figure("Last failure", status.last_failure_at ? when(status.last_failure_at) : "never"),
      ),
      status.last_error ? h("p", { class: "muted" }, `Last error: ${status.last_error}`) : null,
    );
  }

  function failedView(list: FailedEvent[]): HTMLElement {
    if (list.length === 0) return h("p", { class: "empty" }, "No failed events.");
    const all = h("button", { type: "button", onclick: () => redeliver(null, all) }, `Redeliver all ${list.length}`);
    return h(
      "div",
      {},
      h("div", { class: "buttons" }, all),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          {},
          h("caption", {}, "Events given up on after a day of retries"),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ["Event", "Type", "About", "Attempts", "Last error"].map((t) => h("th", { scope: "col" }, t)),
              h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
            ),
          ),
          h(
            "tbody",
            {},
            list.map((event) => {
              const button = h("button", { type: "button" }, "Redeliver");
              button.addEventListener("click", () => redeliver([event.id], button));
              return h(
                "tr",
                { "data-event-id": event.id },
                h("th", { scope: "row" }, event.id),
                h("td", {}, event.type),
                h("td", {}, event.subject),
                h("td", { class: "num" }, String(event.attempts)),
                h("td", { class: "note" }, event.last_error ?? ""),
                h("td", { class: "actions" }, button),
              );
            }),
          ),
        ),
      ),
    );
  }

  async function redeliver(ids: string[] | null, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const body: RequestBody<"redeliverEvents"> = ids === null ? {} : { event_ids: ids };
      const done = await post<Answer<"redeliverEvents">>("/events/deliveries/redeliver", body);
      ctx.announce(`${done.redelivered.length} event(s) will be pushed again: ${done.redelivered.join(", ")}.`);
      await load();
    } catch (failure) {
      ctx.alert(`The events could not be put back in line. ${describe(failure)}`);
      button.disabled = false;
    }
  }

  return { element, load };
}
