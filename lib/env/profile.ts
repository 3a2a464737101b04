/**
 * Hardware profiles decide which PyTorch build set-up installs.
 *
 * @module
 */

/** The PyTorch builds ince knows how to install. */
export type Profile = "cpu" | "cuda" | "rocm";

/** The profiles, in the order they are documented. */
export const PROFILES: readonly Profile[] = ["cpu", "cuda", "rocm"];

/** What {@linkcode detectProfile} looks at; injectable for tests. */
export interface DetectProfileOptions {
  /** Environment to read `INCE_PROFILE` from (defaults to the process environment). */
  env?: Record<string, string | undefined>;
  /** Whether a command is on the PATH (defaults to searching `PATH`). */
  hasCommand?: (name: string) => boolean;
}

function _hasCommandOnPath(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/**
 * Chooses the hardware profile: `INCE_PROFILE` when set, else `rocm` when `rocminfo` exists (AMD),
 * `cuda` when `nvidia-smi` exists (NVIDIA), else `cpu`.
 *
 * @param options The environment and command lookup to use.
 * @returns The profile to install.
 * @throws {Error} When `INCE_PROFILE` names an unknown profile.
 *
 * @example Override the detection, or see what it finds
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectProfile } from "./profile.ts";
 * assert.equal(detectProfile({ env: { INCE_PROFILE: "rocm" } }), "rocm");
 * assert.equal(detectProfile({ env: {}, hasCommand: (name) => name === "nvidia-smi" }), "cuda");
 * assert.throws(() => detectProfile({ env: { INCE_PROFILE: "tpu" } }), /not a known profile/);
 * ```
 */
export function detectProfile(options: DetectProfileOptions = {}): Profile {
  const env = options.env ?? Deno.env.toObject();
  const hasCommand = options.hasCommand ?? _hasCommandOnPath;
  const chosen = env.INCE_PROFILE?.trim();
  if (chosen) {
    if ((PROFILES as readonly string[]).includes(chosen)) return chosen as Profile;
    throw new Error(
      `INCE_PROFILE="${chosen}" is not a known profile: use one of ${
        PROFILES.join(", ")
      }, or unset it to auto-detect.`,
    );
  }
  if (hasCommand("rocminfo")) return "rocm";
  if (hasCommand("nvidia-smi")) return "cuda";
  return "cpu";
}
