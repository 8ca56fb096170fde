import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", ".pulumi-state/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        files: ["tests/**/*.ts"],
        rules: {
            // Tests read resource inputs the mocks hand back as untyped JSON.
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
);
