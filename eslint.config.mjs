import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", ".pulumi-state/"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        // The simulator's fake commands are plain CommonJS, so that each fake process starts fast.
        files: ["tests/doubles/vault/**/*.js", "tests/doubles/vault/bin/*"],
        languageOptions: {
            sourceType: "commonjs",
            globals: {
                require: "readonly",
                module: "writable",
                process: "readonly",
                Buffer: "readonly",
                __dirname: "readonly",
                SharedArrayBuffer: "readonly",
                Atomics: "readonly",
            },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        // The dependency check runs before node_modules exists: plain CommonJS for Node, no imports.
        files: ["scripts/ensure-deps.js"],
        languageOptions: {
            sourceType: "commonjs",
            globals: { require: "readonly", module: "writable", process: "readonly", console: "readonly", __dirname: "readonly" },
        },
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
    {
        files: ["tests/**/*.ts"],
        rules: {
            // Tests read resource inputs the mocks hand back as untyped JSON.
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
);
