/**
 * Scrubs known secret values out of text before it is printed: error messages from Vault or kubectl never contain
 * keys in practice, but the bootstrap promises that none ever reaches a log, so it checks instead of trusting.
 */
export class Redactor {
    private readonly secrets = new Set<string>();

    add(...values: Array<string | undefined>): void {
        for (const value of values) {
            // Very short strings would turn ordinary words into "<redacted>"; secrets here are long.
            if (value && value.length >= 8) this.secrets.add(value);
        }
    }

    /** Adds every line and every base64 blob of a kubeconfig (its client key and certificates). */
    addKubeconfig(kubeconfig: string | undefined): void {
        for (const match of (kubeconfig ?? "").matchAll(/[A-Za-z0-9+/=]{40,}/g)) this.add(match[0]);
    }

    apply(text: string): string {
        let out = text;
        // Longest first, so that a secret containing another is replaced whole.
        for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) {
            out = out.split(secret).join("<redacted>");
        }
        return out;
    }
}
