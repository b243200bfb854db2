// The print page (print.html): the workspace opens it, then sends it a
// letter's or a statement's HTML as the API answered it (fetched with the
// bearer token, which a plain link cannot carry). The page shows that
// document in place of itself and opens the print dialog. Its own
// content-security-policy lets the document's inline print CSS apply and
// runs no script but this one.

interface PrintMessage {
  kind: "credit-desk-print";
  html: string;
  print: boolean;
}

function isPrintMessage(data: unknown): data is PrintMessage {
  if (!data || typeof data !== "object") return false;
  const message = data as Record<string, unknown>;
  return message.kind === "credit-desk-print" && typeof message.html === "string" && typeof message.print === "boolean";
}

window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || event.source !== window.opener || !isPrintMessage(event.data)) return;
  const { html, print } = event.data;
  document.open();
  document.write(html);
  document.close();
  if (print) setTimeout(() => window.print(), 200);
});

window.opener?.postMessage({ kind: "credit-desk-print-ready" }, location.origin);
