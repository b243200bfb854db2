import type { Me } from "./types";

/** What every view gets from the shell. */
export interface Ctx {
  /** Who is signed in, when the API says (null: not known). */
  me: Me | null;
  /** Tells the person what just happened (a polite live region). */
  announce(message: string): void;
  /** Tells the person something failed (an assertive alert region). */
  alert(message: string): void;
  /** True while this view is still the one on screen. */
  current(): boolean;
}
