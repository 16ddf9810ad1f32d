package i18n

import "maps"

// Messages of paging: action links, escalation, the notification log, engine timeline entries.
func init() {
	maps.Copy(catalogue, map[string]Message{
		"nav.notifications": {"Notifications", "通知记录"},

		// Home page: the open incidents that paged me.
		"me.pages":          {"Open incidents that paged you", "呼叫过你的未解决事故"},
		"me.no_pages":       {"None: no open incident has paged you.", "暂无：没有未解决的事故呼叫过你。"},
		"me.paged_at":       {"paged", "呼叫于"},
		"me.open_incidents": {"All open incidents (%d) →", "全部未解决事故（%d）→"},

		// Incident page.
		"paging.escalate_now":     {"Escalate now", "立即升级"},
		"paging.reassign":         {"Page someone else", "转派/加派"},
		"paging.reassign_choose":  {"Choose a person, schedule or team…", "选择人员、排班或团队…"},
		"paging.reassign_submit":  {"Page", "呼叫"},
		"paging.reassign_missing": {"Choose whom to page.", "请选择要呼叫的对象。"},
		"paging.log_for_incident": {"Notification log (%d)", "通知记录（%d）"},

		// One-click links.
		"act.title":          {"Incident action", "事故操作"},
		"act.status":         {"Status", "状态"},
		"act.do_acknowledge": {"Acknowledge", "确认"},
		"act.do_resolve":     {"Resolve", "解决"},
		"act.hint":           {"This link works once and expires. It acts as the person it was sent to.", "此链接只能使用一次且会过期，操作将记在收件人名下。"},
		"act.acknowledged":   {"Acknowledged. Paging has stopped.", "已确认，呼叫已停止。"},
		"act.resolved":       {"Resolved.", "已解决。"},
		"act.already":        {"Nothing to do: the incident is already %s.", "无需操作：事故已是「%s」状态。"},
		"act.expired":        {"This link has expired. Open the incident to act on it.", "链接已过期，请打开事故页面操作。"},
		"act.used":           {"This link has already been used.", "此链接已被使用。"},
		"act.invalid":        {"This link is not valid.", "链接无效。"},
		"act.failed":         {"Something went wrong; open the incident to act on it.", "操作失败，请打开事故页面操作。"},
		"act.open_incident":  {"Open the incident", "打开事故"},

		// Notification log.
		"notifications.title":        {"Notification log", "通知记录"},
		"notifications.intro":        {"Every page firebreak sent or tried to send, newest first.", "firebreak 发出或尝试发出的每一条呼叫，最新的在前。"},
		"notifications.for_incident": {"Pages for incident #%d: %s", "事故 #%d 的呼叫：%s"},
		"notifications.state":        {"State", "状态"},
		"notifications.any_state":    {"All states", "全部状态"},
		"notifications.filter":       {"Filter", "筛选"},
		"notifications.created":      {"Queued", "排队时间"},
		"notifications.incident":     {"Incident", "事故"},
		"notifications.to":           {"To", "对象"},
		"notifications.how":          {"How", "方式"},
		"notifications.step_col":     {"Step", "步骤"},
		"notifications.attempts":     {"Attempts", "尝试次数"},
		"notifications.detail":       {"Detail", "详情"},
		"notifications.next_attempt": {"next attempt", "下次尝试"},
		"notifications.bundled_into": {"sent together with #%d", "与 #%d 合并发送"},
		"notifications.fallback_of":  {"fallback for #%d", "#%d 的备用方式"},
		"notifications.older":        {"Older", "更早"},
		"notifications.none":         {"No notifications yet.", "暂无通知记录。"},
		"notifications.step":         {"step %d, cycle %d", "第 %d 步，第 %d 轮"},
		"notifications.manual":       {"paged by hand (%d)", "手动呼叫（%d）"},

		"notification_state.pending":          {"pending", "待发送"},
		"notification_state.sending":          {"sending", "发送中"},
		"notification_state.sent":             {"delivered", "已送达"},
		"notification_state.failed_temporary": {"failed, will retry", "失败，将重试"},
		"notification_state.failed_permanent": {"failed", "失败"},
		"notification_state.cancelled":        {"not needed", "已取消"},

		// Timeline entries the engine writes.
		"entry.escalated":          {"escalated (%s): paging %s", "升级（%s）：呼叫 %s"},
		"entry.reassigned":         {"paged %s by hand", "手动呼叫 %s"},
		"entry.nobody":             {"nobody", "无人"},
		"entry.notify_sent":        {"paged %s by %s", "已通过 %[2]s 呼叫 %[1]s"},
		"entry.notify_bundled":     {"(%d pages in one message)", "（%d 条呼叫合并为一条消息）"},
		"entry.notify_retry":       {"could not reach %s by %s (attempt %d); retrying at %s", "无法通过 %[2]s 联系 %[1]s（第 %[3]d 次尝试），将于 %[4]s 重试"},
		"entry.notify_failed":      {"gave up reaching %s by %s.", "放弃通过 %[2]s 联系 %[1]s。"},
		"entry.notify_fallback":    {"Trying %s next.", "改用 %s。"},
		"entry.notify_no_fallback": {"No other contact method left.", "没有其他可用的联系方式。"},
		"entry.notify_cancelled":   {"did not page %s by %s: no longer needed", "未通过 %[2]s 呼叫 %[1]s：已无需呼叫"},
		"entry.notify_throttled":   {"held a page to %s by %s (rate limit) until %s", "因频率限制，暂缓通过 %[2]s 呼叫 %[1]s，至 %[3]s"},
		"entry.policy_changed":     {"switched to escalation policy %s for level %s", "按级别 %[2]s 改用升级策略 %[1]s"},
		"entry.escalate_now":       {"asked to escalate now", "要求立即升级"},
		"entry.ack_expired":        {"acknowledgement timed out; paging again", "确认超时，重新呼叫"},
	})
}
