/**
 * vault-ha's configuration: one typed, validated object built from Pulumi config before any resource exists.
 * The public entry of components/config; the work is in files by job:
 * - settingDeclarations.ts: each setting once (default, grammar, fix example, modes, description), and what follows;
 * - grammars.ts: what text each kind of value accepts;
 * - settingRules.ts, modeRules.ts: the rules between settings, and the warnings;
 * - configReader.ts: the readers of a whole config (the program's loadSettings, the tools' checkConfig);
 * - configProblems.ts, configNames.ts: how a problem (components/problems.ts) and its fix are written, and "did you mean";
 * - settingsTable.ts: the README's configuration table, rendered from the declarations.
 */
export { shellFixes, ConfigError, DEFAULT_STACK, FixCommands, PROJECT, shellWord } from "./configProblems";
export type { Problem } from "../problems";
export {
    ADOPTION_SETTINGS,
    ANTI_AFFINITIES,
    CERT_MANAGER_MODES,
    CLUSTER_MODES,
    DECLARATIONS,
    DEFAULTS,
    EXISTING_ONLY_SETTINGS,
    INGRESS_MODES,
    KIND_ONLY_SETTINGS,
    RAFT_VOLUMES_ON_DESTROY,
    SECRET_SETTINGS,
    SETTING_NAMES,
    VAULT_SERVICE_TYPES,
} from "./settingDeclarations";
export type {
    AntiAffinity,
    AntiAffinitySetting,
    CertManagerSetting,
    ClusterMode,
    Declaration,
    IngressMode,
    IngressSetting,
    RaftVolumesOnDestroy,
    SettingName,
    Settings,
    VaultServiceType,
    VaultServiceTypeSetting,
} from "./settingDeclarations";
export { NODE_PORT_RANGE, quantityBytes, RAFT_STORAGE_BOUNDS, VAULT_IMAGE_PATTERN, VAULT_RESERVED_MOUNTS, VAULT_TAGS_NEEDING_IPC_LOCK } from "./grammars";
export { distance, shellValue, splitConfigKey } from "./configNames";
export type { ParsedSettings, ReadOptions } from "./settingRules";
export { checkConfig, loadSettings, parseAdoption, parseConfig, parseSettings, rawFromStackConfig } from "./configReader";
export type { AdoptedKeys, CheckedConfig, ConfigEntry } from "./configReader";
