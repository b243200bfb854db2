// Letters and statements as the API renders them: printed from the print
// page (print.html), or saved as files. Both fetch the document with the
// bearer token; a plain link could not carry it.

import { downloadFile, get } from "./api";

/** Waits for the print page opened by this window to say it is ready. */
function printPageReady(target: Window): Promise<void> {
  return new Promise((ready, fail) => {
    const timer = setTimeout(() => {
      window.removeEventListener("message", listen);
      fail(new Error("The print page did not open. Allow pop-ups for this workspace and try again."));
    }, 15_000);
    function listen(event: MessageEvent): void {
      if (event.origin !== location.origin || event.source !== target) return;
      if ((event.data as { kind?: unknown } | null)?.kind !== "credit-desk-print-ready") return;
      clearTimeout(timer);
      window.removeEventListener("message", listen);
      ready();
    }
    window.addEventListener("message", listen);
  });
}

/**
 * Opens the print page and shows the HTML document at `path` in it, then
 * the print dialog. The page is opened at once, while the click that asked
 * for it still counts as one (pop-up blockers allow that), and filled in
 * when the document has arrived.
 */
export async function printDocument(path: string): Promise<void> {
  const target = window.open("print.html", "_blank");
  if (!target) throw new Error("The print page was blocked. Allow pop-ups for this workspace and try again.");
  try {
    const [html] = await Promise.all([get<string>(path, { accept: "text/html" }), printPageReady(target)]);
    target.postMessage({ kind: "credit-desk-print", html, print: true }, location.origin);
  } catch (failure) {
    target.close();
    throw failure;
  }
}

/** Saves the HTML document at `path` as a file; gives the file's name. */
export function downloadDocument(path: string, fallbackName: string): Promise<string> {
  return downloadFile(path, "text/html", fallbackName);
}
